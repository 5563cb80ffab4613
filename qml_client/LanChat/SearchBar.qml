// Ctrl+F: find lines in the conversation, as in the chats people use daily: the words,
// where the line shown is among the lines that have them ("2 of 7", 1 the newest), the
// older and the newer one (Enter, Shift+Enter, F3, Shift+F3, the arrows), the kept
// history's lines on request, Esc to close.  What is found is shown by the view (the
// line comes into sight, selected); this bar shows only counts and the typed words.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

Frame {
    id: bar

    property int number: 0  // the line shown among the hits, 1 = the newest; 0: none
    property int count: 0  // hits in the view
    property bool history: true  // the history is kept: it can be searched too
    readonly property alias words: field.text
    signal wordsEdited(string words)  // after a short pause in typing
    signal older()
    signal newer()
    signal historyRequested(string words)
    signal closed()

    function open() {  // Ctrl+F, F3 while closed: the last words found again
        visible = true;
        field.forceActiveFocus();
        field.selectAll();
        if (field.text.trim() !== "")
            bar.wordsEdited(field.text);
    }
    function close() {  // Esc, the ✕, Esc in the message field
        typing.stop();  // words typed just before must not search after the bar is gone
        bar.closed();
    }
    function openWith(words) {  // /search WORDS typed: the bridge has counted them
        typing.stop();
        field.text = words;
        visible = true;
        Qt.callLater(field.forceActiveFocus);  // after the message field's Enter is done
    }

    padding: 4
    Accessible.role: Accessible.Pane
    Accessible.name: qsTr("Find in the conversation")

    // Each keystroke would search the view again (10,000 lines at most): once typing rests.
    Timer {
        id: typing
        interval: 150
        onTriggered: bar.wordsEdited(field.text)
    }

    RowLayout {
        anchors.fill: parent
        spacing: 6

        TextField {
            id: field
            objectName: "searchField"
            Layout.fillWidth: true
            Layout.minimumWidth: ChatSizes.px(60)  // the buttons keep their room
            placeholderText: qsTr("Find in the conversation")
            Accessible.name: qsTr("Words to find")
            Accessible.description: qsTr("Enter: the older line with them; Shift+Enter: the newer")
            selectByMouse: true
            function enter(event) {
                if (typing.running) {  // Enter right after typing: search now (the newest)
                    typing.stop();
                    bar.wordsEdited(field.text);
                } else if (event.modifiers & Qt.ShiftModifier) {
                    bar.newer();
                } else {
                    bar.older();
                }
            }
            onTextEdited: typing.restart()
            Keys.onReturnPressed: event => field.enter(event)
            Keys.onEnterPressed: event => field.enter(event)
            Keys.onEscapePressed: bar.close()
        }

        Label {
            objectName: "searchCount"
            textFormat: Text.PlainText
            color: bar.count === 0 && field.text.trim() !== "" ? ChatColors.error : ChatColors.muted
            font.pixelSize: ChatSizes.px(12)
            text: field.text.trim() === "" ? ""
                : bar.count === 0 ? qsTr("not found")
                : bar.number === 0 ? qsTr("%1 in the view").arg(bar.count)
                : qsTr("%1 of %2").arg(bar.number).arg(bar.count)
            Accessible.name: text
        }

        ToolButton {
            objectName: "searchOlder"
            focusPolicy: Qt.NoFocus  // a click leaves the keys in the field
            opacity: enabled ? 1 : 0.35
            text: "\u25B2"  // ▲
            enabled: bar.count > 0
            Accessible.name: qsTr("Older line")
            ToolTip.visible: hovered
            ToolTip.text: qsTr("Older (Enter, F3)")
            onClicked: bar.older()
        }

        ToolButton {
            objectName: "searchNewer"
            focusPolicy: Qt.NoFocus  // a click leaves the keys in the field
            opacity: enabled ? 1 : 0.35
            text: "\u25BC"  // ▼
            enabled: bar.count > 0
            Accessible.name: qsTr("Newer line")
            ToolTip.visible: hovered
            ToolTip.text: qsTr("Newer (Shift+Enter, Shift+F3)")
            onClicked: bar.newer()
        }

        Button {
            objectName: "searchHistory"
            focusPolicy: Qt.NoFocus
            visible: bar.history
            enabled: field.text.trim() !== ""
            text: bar.width < ChatSizes.px(560) ? qsTr("History") : qsTr("Search the history")
            Accessible.name: qsTr("List the kept history's lines with these words")
            onClicked: bar.historyRequested(field.text)
        }

        ToolButton {
            objectName: "searchClose"
            focusPolicy: Qt.NoFocus  // a click leaves the keys in the field
            opacity: enabled ? 1 : 0.35
            text: "\u2715"  // ✕
            Accessible.name: qsTr("Close the search")
            ToolTip.visible: hovered
            ToolTip.text: qsTr("Close (Esc)")
            onClicked: bar.close()
        }
    }
}
