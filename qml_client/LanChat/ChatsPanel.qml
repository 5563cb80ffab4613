// The start screen, while this window is in no chat: your name, Join for this window's
// own server, the chats announced on this network (DNS-SD) with who is in them and Join,
// another address, and Host a chat with its title. No command needed; commands still work
// in the message field. Titles and names are foreign text: plain text only.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

Frame {
    id: root

    property alias model: chats.model
    property string serverAddress  // this window's own server (what Join here joins)
    property string suggestedName  // the name last used or remembered
    readonly property alias name: nameField.text
    signal joinHereRequested(string name)
    signal joinRequested(int row, string name)
    signal addressJoinRequested(string address, string name)
    signal hostRequested(string title, string name)

    onSuggestedNameChanged: if (!nameField.text) nameField.text = suggestedName
    Component.onCompleted: nameField.text = suggestedName

    function joinHere() {  // a name first: a person on the start screen types no commands
        const name = nameField.text.trim();
        nameHint.visible = name === "";
        if (name === "")
            nameField.forceActiveFocus();
        else
            root.joinHereRequested(name);
    }

    padding: 8
    Accessible.role: Accessible.Pane
    Accessible.name: qsTr("Join a chat")

    ColumnLayout {
        anchors.fill: parent
        spacing: 6

        Label {
            Layout.fillWidth: true
            textFormat: Text.PlainText
            font.bold: true
            wrapMode: Text.Wrap
            text: qsTr("Join a chat")
        }

        RowLayout {
            Layout.fillWidth: true
            spacing: 8
            TextField {
                id: nameField
                objectName: "nameField"
                Layout.fillWidth: true
                placeholderText: qsTr("Your name")
                Accessible.name: qsTr("Your name")
                maximumLength: 64
                onAccepted: root.joinHere()
                onTextChanged: nameHint.visible = false
            }
            Button {
                objectName: "joinHere"
                text: qsTr("Join")
                Accessible.name: qsTr("Join the chat at %1").arg(root.serverAddress)
                ToolTip.visible: hovered
                ToolTip.text: qsTr("The chat at %1").arg(root.serverAddress)
                onClicked: root.joinHere()
            }
        }

        Label {
            id: nameHint
            objectName: "nameHint"
            visible: false
            Layout.fillWidth: true
            textFormat: Text.PlainText
            wrapMode: Text.Wrap
            color: ChatColors.error
            text: qsTr("Type your name first: the others see it beside your lines.")
        }

        Label {
            Layout.fillWidth: true
            textFormat: Text.PlainText
            wrapMode: Text.Wrap
            font.bold: chats.count > 0
            text: chats.count > 0 ? qsTr("Or one of the chats on this network (%1):").arg(chats.count)
                                  : qsTr("No other chat announced on this network yet. Join the "
                                         + "chat at %1, type another address, or host one.")
                                        .arg(root.serverAddress)
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
                    onClicked: root.joinRequested(row.index, nameField.text.trim())
                }
            }
        }

        RowLayout {
            Layout.fillWidth: true
            spacing: 8
            TextField {
                id: addressField
                objectName: "addressField"
                Layout.fillWidth: true
                placeholderText: qsTr("Another address, e.g. 10.0.0.5")
                Accessible.name: qsTr("Another chat's address")
                onAccepted: if (text.trim()) root.addressJoinRequested(text, nameField.text.trim())
            }
            Button {
                objectName: "joinAddress"
                text: qsTr("Join")
                enabled: addressField.text.trim() !== ""
                Accessible.name: qsTr("Join the chat at the address typed")
                onClicked: root.addressJoinRequested(addressField.text, nameField.text.trim())
            }
        }

        RowLayout {
            Layout.fillWidth: true
            spacing: 8
            TextField {
                id: titleField
                objectName: "titleField"
                Layout.fillWidth: true
                placeholderText: qsTr("Title of your own chat (what others and phones see)")
                Accessible.name: qsTr("Title of a chat to host")
                maximumLength: 63
                onAccepted: root.hostRequested(text.trim(), nameField.text.trim())
            }
            Button {
                objectName: "hostButton"
                text: qsTr("Host a chat")
                Accessible.name: qsTr("Host a chat on this computer for the network")
                onClicked: root.hostRequested(titleField.text.trim(), nameField.text.trim())
            }
        }
    }
}
