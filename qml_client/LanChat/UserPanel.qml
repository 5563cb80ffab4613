// Who is in the chat, kept current from welcome, bye and list replies.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

Frame {
    id: root

    property alias model: users.model

    padding: 8
    Accessible.role: Accessible.List
    Accessible.name: qsTr("People in the chat")

    ColumnLayout {
        anchors.fill: parent
        spacing: 6

        Label {
            objectName: "userCount"
            textFormat: Text.PlainText
            text: qsTr("In the chat (%1)").arg(users.count)
            font.bold: true
        }

        ListView {
            id: users
            objectName: "userList"
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            delegate: Label {
                required property string userName
                required property bool isSelf
                width: ListView.view.width
                // A name is foreign text: never markup, and in a direction island of its own.
                textFormat: Text.PlainText
                text: "\u25cf \u2068" + userName + "\u2069" + (isSelf ? qsTr(" (you)") : "")
                font.bold: isSelf
                elide: Text.ElideRight
                color: isSelf ? ChatColors.own : ChatColors.colorFor(userName)
                padding: 2
            }
        }
    }
}
