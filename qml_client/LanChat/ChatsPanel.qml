// The chats announced on this network (DNS-SD), while this window is in none: a title,
// where it is, how many are in it, and Join; and Host a chat, for the one who runs it.
// Titles are foreign text: plain text only.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

Frame {
    id: root

    property alias model: chats.model
    property string serverAddress  // this window's own server (what /login NAME joins)
    signal joinRequested(int row)
    signal hostRequested()

    padding: 8
    Accessible.role: Accessible.List
    Accessible.name: qsTr("Chats on this network")

    ColumnLayout {
        anchors.fill: parent
        spacing: 4

        RowLayout {
            Layout.fillWidth: true
            Label {
                Layout.fillWidth: true
                textFormat: Text.PlainText
                font.bold: true
                wrapMode: Text.Wrap
                text: chats.count > 0 ? qsTr("Chats on this network (%1)").arg(chats.count)
                                      : qsTr("No chat announced on this network yet. Host one, "
                                             + "or type /login NAME to join the server at %1.")
                                            .arg(root.serverAddress)
            }
            Button {
                objectName: "hostButton"
                text: qsTr("Host a chat")
                Accessible.name: qsTr("Host a chat on this computer for the network")
                onClicked: root.hostRequested()
            }
        }

        ListView {
            id: chats
            objectName: "chatList"
            Layout.fillWidth: true
            Layout.preferredHeight: Math.min(contentHeight, 4 * 40)
            visible: count > 0
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
