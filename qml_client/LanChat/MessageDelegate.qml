// One chat line. Outgoing (->) on the right in blue, incoming (<-) on the left in grey,
// raw lines from unknown servers in amber, lines from hosts that are not the server in
// amber with a red frame, system lines centred, errors in red. Every piece of foreign
// text is plain text in a direction island of its own (FSI ... PDI), so a right-to-left
// line cannot move the marks, names or times shown beside it.
import QtQuick

Item {
    id: root

    // Display text and booleans from the model (MessageRoles): nothing here compares codes.
    required property int index
    required property string lineText
    required property string sender
    required property string timestamp
    required property string markText
    required property bool outgoing
    required property bool inBubble
    required property bool raw
    required property bool foreign
    required property bool isError
    required property bool isSystem
    required property bool failed
    required property bool mention
    required property var links  // http(s) addresses in the text: buttons, the text stays plain

    signal menuRequested(string text)
    signal selectionStarted(int row, bool extend)
    signal selectionMoved(real sceneX, real sceneY)
    signal linkActivated(string url)

    readonly property string mark: outgoing ? "->" : "<-"
    // A system text of several lines (/help) is a table: left-aligned, fixed-width.
    readonly property bool block: lineText.indexOf("\n") >= 0

    width: ListView.view ? ListView.view.width : 400
    Accessible.role: Accessible.ListItem
    Accessible.name: (outgoing ? qsTr("you") : sender) + (sender || outgoing ? ": " : "")
                     + lineText + (markText ? ", " + markText : "")
    implicitHeight: (inBubble ? bubble.height : systemText.implicitHeight) + 4

    Rectangle {
        id: bubble
        visible: root.inBubble
        x: root.outgoing ? root.width - width - 6 : 6
        y: 2
        width: Math.min(Math.max(header.implicitWidth, body.implicitWidth) + 20, root.width * 0.8)
        height: header.implicitHeight + body.implicitHeight + linkRow.implicitHeight + 12
        radius: 8
        color: root.outgoing ? ChatColors.ownBubble
             : root.raw || root.foreign ? ChatColors.rawBubble : ChatColors.otherBubble
        border.color: root.failed || root.foreign ? ChatColors.error
                    : root.mention ? ChatColors.mention : "transparent"
        border.width: root.mention ? 2 : 1

        Row {
            id: header
            x: 10
            y: 5
            spacing: 6

            Text {
                textFormat: Text.PlainText
                font.pixelSize: ChatSizes.px(11)
                color: ChatColors.muted
                text: root.timestamp
            }

            Text {
                textFormat: Text.PlainText
                font.pixelSize: ChatSizes.px(11)
                font.bold: true
                color: root.outgoing ? ChatColors.own
                     : root.foreign ? ChatColors.error : ChatColors.colorFor(root.sender)
                text: root.outgoing ? qsTr("you")
                      : root.foreign ? qsTr("from %1, not the server: not trusted").arg(root.sender)
                      : root.sender !== "" ? "\u2068" + root.sender + "\u2069"
                      : root.raw ? qsTr("(raw from server)") : ""
            }

            Text {
                textFormat: Text.PlainText
                font.pixelSize: ChatSizes.px(11)
                color: root.failed ? ChatColors.error : ChatColors.muted
                text: root.markText
            }
        }

        Text {
            id: body
            x: 10
            anchors.top: header.bottom
            anchors.topMargin: 2
            width: bubble.width - 20
            textFormat: Text.PlainText
            wrapMode: Text.Wrap
            font.pixelSize: ChatSizes.px(14)
            font.family: root.raw ? ChatSizes.fixedFamily : Qt.application.font.family
            color: ChatColors.text
            text: root.inBubble ? root.mark + " \u2068" + root.lineText + "\u2069" : ""
        }

        // Each address as a button of its own: the line's text is never rendered as markup.
        Row {
            id: linkRow
            x: 10
            anchors.top: body.bottom
            spacing: 6
            Repeater {
                model: root.links
                delegate: Text {
                    required property string modelData
                    objectName: "link"
                    textFormat: Text.PlainText
                    font.pixelSize: ChatSizes.px(12)
                    font.underline: true
                    color: ChatColors.own
                    elide: Text.ElideMiddle
                    width: Math.min(implicitWidth, bubble.width - 20)
                    text: "\u2197 " + modelData
                    Accessible.role: Accessible.Link
                    Accessible.name: modelData
                    MouseArea {
                        anchors.fill: parent
                        cursorShape: Qt.PointingHandCursor
                        onClicked: root.linkActivated(parent.modelData)
                    }
                }
            }
        }
    }

    // A hidden Text still lays its text out: each of the two gets text only when shown
    // (under a flood every line in sight is laid out again in each frame).
    Text {
        id: systemText
        visible: !root.inBubble
        width: root.width
        y: 2
        horizontalAlignment: root.block ? Text.AlignLeft : Text.AlignHCenter
        font.family: root.block ? ChatSizes.fixedFamily : Qt.application.font.family
        textFormat: Text.PlainText
        wrapMode: Text.Wrap
        font.pixelSize: ChatSizes.px(12)
        font.italic: root.isSystem
        color: root.isError ? ChatColors.error : ChatColors.muted
        text: root.inBubble ? "" : root.timestamp + "  " + (root.isError ? "\u26a0 " : "\u2014 ")
                                   + "\u2068" + root.lineText + "\u2069"
    }

    // The view's selection of whole lines shows behind them.
    Rectangle {
        z: -1
        anchors.fill: parent
        visible: root.ListView.view !== null && root.ListView.view.selectionContains(root.index)
        color: ChatColors.selection
    }

    // Right-click a line for its menu (the view owns the one menu; lines stay light).
    // Press and drag (or Shift+click) selects whole lines; Ctrl+C copies them.
    MouseArea {
        z: -1  // under the line's own buttons (links), over its selection highlight
        anchors.fill: parent
        acceptedButtons: Qt.LeftButton | Qt.RightButton
        preventStealing: true  // a drag here selects; the wheel and the scrollbar scroll
        onPressed: mouse => {
            if (mouse.button === Qt.LeftButton)
                root.selectionStarted(root.index, mouse.modifiers & Qt.ShiftModifier);
        }
        onPositionChanged: mouse => {
            const p = mapToItem(null, mouse.x, mouse.y);
            root.selectionMoved(p.x, p.y);
        }
        onClicked: mouse => {
            if (mouse.button === Qt.RightButton)
                root.menuRequested(root.lineText);
        }
    }
}
