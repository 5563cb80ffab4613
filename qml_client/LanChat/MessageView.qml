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

        // Always shown: people want to see where they are in the chat (and AsNeeded's
        // fade-out is one more animation started and stopped in a busy pass).
        ScrollBar.vertical: ScrollBar { policy: ScrollBar.AlwaysOn }

        // Following the end sets contentY directly. positionViewAtEnd() ends in Flickable's
        // fixup, which runs even an instant correction through the view's QQuickTimeLine,
        // an animation job: started and stopped within one pass of the event loop, Qt's
        // queued QUnifiedTimer stop then reaches a driver that is not running, and warns
        // "QUnifiedTimer::stopAnimationDriver: driver is not running" (with the basic
        // render loop: offscreen, software). That was the burst test's rare failure:
        // 3-12 warnings per 30,000 lines with positionViewAtEnd, none with this (measured).
        // The view's own estimate of contentHeight grows as it lays out the last lines,
        // so a change of it follows too; Qt.callLater runs each once per pass.
        onMovementEnded: followEnd = atYEnd
        function toEnd() {
            if (contentHeight > height)
                contentY = originY + contentHeight - height;
        }
        onCountChanged: if (followEnd) Qt.callLater(list.toEnd)
        onContentHeightChanged: if (followEnd) Qt.callLater(list.toEnd)
        onHeightChanged: if (followEnd) Qt.callLater(list.toEnd)
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
