// The scrolling list of chat lines; follows new lines unless the user has scrolled up.
import QtQuick
import QtQuick.Controls

Frame {
    id: root

    property alias model: list.model

    signal copyRequested(string text)
    readonly property alias count: list.count

    padding: 4
    background: Rectangle {
        color: ChatColors.viewBackground
        border.color: ChatColors.viewBorder
        radius: 3
    }

    ListView {
        id: list
        objectName: "messageList"

        property bool followEnd: true

        anchors.fill: parent
        clip: true
        spacing: 2
        boundsBehavior: Flickable.StopAtBounds
        reuseItems: true
        delegate: MessageDelegate {
            onMenuRequested: text => {
                lineMenu.lineText = text;
                lineMenu.popup();
            }
        }

        // Always shown: people want to see where they are in the chat. It also removes
        // the fade-out animation of AsNeeded, one of the animations that, started and
        // stopped within one busy pass of the event loop, make Qt warn
        // "QUnifiedTimer::stopAnimationDriver: driver is not running". ListView's own
        // internal timelines still can (seen in gdb): the warning is rarer, not gone.
        ScrollBar.vertical: ScrollBar { policy: ScrollBar.AlwaysOn }

        onMovementEnded: followEnd = atYEnd
        onCountChanged: if (followEnd) Qt.callLater(list.positionViewAtEnd)
        onHeightChanged: if (followEnd) Qt.callLater(list.positionViewAtEnd)
    }

    Menu {
        id: lineMenu
        objectName: "lineMenu"

        property string lineText

        MenuItem {
            objectName: "copyItem"
            text: qsTr("Copy text")
            onTriggered: root.copyRequested(lineMenu.lineText)
        }
    }
}
