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
    readonly property bool hasWords: field.text.trim() !== ""
    signal wordsEdited(string words)  // after a short pause in typing
    signal older()
    signal newer()
    signal historyRequested(string words)
    signal closed()

    function open() {  // Ctrl+F, F3 while closed: the last words found again
        visible = true;
        field.forceActiveFocus();
        field.selectAll();
        if (hasWords)
            bar.wordsEdited(field.text);
    }
    function close() {  // Esc, the ✕, Esc in the message field
        typing.stop();  // words typed just before must not search after the bar is gone
        bar.closed();
    }
    function openWith(words) {  // /search WORDS typed: the bridge has counted them
        typing.stop();
        field.text = words;
        visible = true;  // the keys stay in the message field (the next line typed went
                         // into the bar): F3/Shift+F3 walk the hits, Ctrl+F goes there
    }

    padding: 4
    Accessible.role: Accessible.Pane
    Accessible.name: qsTr("Find in the conversation")

    // The bar's small buttons: a click leaves the keys in the field; a tip on hover.
    component BarButton: ToolButton {
        property string tip
        focusPolicy: Qt.NoFocus
        opacity: enabled ? 1 : 0.35
        ToolTip.visible: hovered
        ToolTip.text: tip
    }

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
            color: bar.count === 0 && bar.hasWords ? ChatColors.error : ChatColors.muted
            font.pixelSize: ChatSizes.px(12)
            text: !bar.hasWords ? ""
                : bar.count === 0 ? qsTr("not found")
                : bar.number === 0 ? qsTr("%1 in the view").arg(bar.count)
                : qsTr("%1 of %2").arg(bar.number).arg(bar.count)
            Accessible.name: text
        }

        BarButton {
            objectName: "searchOlder"
            text: "\u25B2"  // ▲
            enabled: bar.count > 0
            Accessible.name: qsTr("Older line")
            tip: qsTr("Older (Enter, F3)")
            onClicked: bar.older()
        }

        BarButton {
            objectName: "searchNewer"
            text: "\u25BC"  // ▼
            enabled: bar.count > 0
            Accessible.name: qsTr("Newer line")
            tip: qsTr("Newer (Shift+Enter, Shift+F3)")
            onClicked: bar.newer()
        }

        Button {
            objectName: "searchHistory"
            focusPolicy: Qt.NoFocus
            visible: bar.history
            enabled: bar.hasWords
            text: bar.width < ChatSizes.px(560) ? qsTr("History") : qsTr("Search the history")
            Accessible.name: qsTr("List the kept history's lines with these words")
            onClicked: bar.historyRequested(field.text)
        }

        BarButton {
            objectName: "searchClose"
            text: "\u2715"  // ✕
            Accessible.name: qsTr("Close the search")
            tip: qsTr("Close (Esc)")
            onClicked: bar.close()
        }
    }
}
