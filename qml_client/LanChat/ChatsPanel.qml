// The chats announced on this network (DNS-SD), while this window is in none: a title,
// where it is, how many are in it, and Join. Titles are foreign text: plain text only.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

Frame {
    id: root

    property alias model: chats.model
    signal joinRequested(int row)

    padding: 8
    Accessible.role: Accessible.List
    Accessible.name: qsTr("Chats on this network")

    ColumnLayout {
        anchors.fill: parent
        spacing: 4

        Label {
            textFormat: Text.PlainText
            font.bold: true
            text: qsTr("Chats on this network (%1)").arg(chats.count)
        }

        ListView {
            id: chats
            objectName: "chatList"
            Layout.fillWidth: true
            Layout.preferredHeight: Math.min(contentHeight, 4 * 40)
            clip: true
            spacing: 4
            delegate: RowLayout {
                id: row
                required property int index
                required property string title
                required property string where
                required property string users
                width: ListView.view.width
                spacing: 8

                Label {
                    Layout.fillWidth: true
                    textFormat: Text.PlainText
                    elide: Text.ElideRight
                    text: "\u2068" + row.title + "\u2069  \u00b7  " + row.where
                          + (row.users ? "  \u00b7  " + row.users : "")
                }
                Button {
                    objectName: "joinButton"
                    text: qsTr("Join")
                    Accessible.name: qsTr("Join %1").arg(row.title)
                    onClicked: root.joinRequested(row.index)
                }
            }
        }
    }
}
