// One chat line. Outgoing (->) on the right in blue, incoming (<-) on the left in grey,
// raw lines from unknown servers in amber, lines from hosts that are not the server in
// amber with a red frame, system lines centred, errors in red. Every piece of foreign
// text is plain text in a direction island of its own (FSI ... PDI), so a right-to-left
// line cannot move the marks, names or times shown beside it.
import QtQuick

Item {
    id: root

    required property string direction
    required property string lineText
    required property string sender
    required property string timestamp
    required property string status

    signal menuRequested(string text)

    readonly property bool outgoing: direction === "out"
    readonly property bool foreign: direction === "foreign"
    readonly property bool chat: direction === "out" || direction === "in" || direction === "raw"
                                 || foreign
    readonly property string mark: outgoing ? "->" : "<-"
    readonly property string statusMark: status === "delivered" ? "\u2713 delivered"
                                       : status === "pending" ? "\u2026 sending"
                                       : status === "queued" ? "\u25f7 queued"
                                       : status === "sent" ? qsTr("sent (no delivery mark)")
                                       : status === "failed" ? "\u2717 not relayed" : ""

    width: ListView.view ? ListView.view.width : 400
    implicitHeight: (chat ? bubble.height : systemText.implicitHeight) + 4

    Rectangle {
        id: bubble
        visible: root.chat
        x: root.outgoing ? root.width - width - 6 : 6
        y: 2
        width: Math.min(Math.max(header.implicitWidth, body.implicitWidth) + 20, root.width * 0.8)
        height: header.implicitHeight + body.implicitHeight + 12
        radius: 8
        color: root.outgoing ? "#d7ecff"
             : root.direction === "raw" || root.foreign ? "#fff4d6" : "#eceff1"
        border.color: root.status === "failed" || root.foreign ? ChatColors.error : "transparent"

        Row {
            id: header
            x: 10
            y: 5
            spacing: 6

            Text {
                textFormat: Text.PlainText
                font.pixelSize: 11
                color: ChatColors.muted
                text: root.timestamp
            }

            Text {
                textFormat: Text.PlainText
                font.pixelSize: 11
                font.bold: true
                color: root.outgoing ? ChatColors.own
                     : root.foreign ? ChatColors.error : ChatColors.colorFor(root.sender)
                text: root.outgoing ? qsTr("you")
                      : root.foreign ? qsTr("from %1, not the server: not trusted").arg(root.sender)
                      : root.sender !== "" ? "\u2068" + root.sender + "\u2069"
                      : root.direction === "raw" ? qsTr("(raw from server)") : ""
            }

            Text {
                textFormat: Text.PlainText
                font.pixelSize: 11
                color: root.status === "failed" ? ChatColors.error : ChatColors.muted
                text: root.statusMark
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
            font.pixelSize: 14
            font.family: root.direction === "raw" ? "monospace" : Qt.application.font.family
            color: "#212121"
            text: root.mark + " \u2068" + root.lineText + "\u2069"
        }
    }

    Text {
        id: systemText
        visible: !root.chat
        width: root.width
        y: 2
        horizontalAlignment: Text.AlignHCenter
        textFormat: Text.PlainText
        wrapMode: Text.Wrap
        font.pixelSize: 12
        font.italic: root.direction === "system"
        color: root.direction === "error" ? ChatColors.error : ChatColors.muted
        text: root.timestamp + "  " + (root.direction === "error" ? "\u26a0 " : "\u2014 ")
              + "\u2068" + root.lineText + "\u2069"
    }

    // Right-click a line for its menu (the view owns the one menu; lines stay light).
    MouseArea {
        anchors.fill: parent
        acceptedButtons: Qt.RightButton
        onClicked: root.menuRequested(root.lineText)
    }
}
