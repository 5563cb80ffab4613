// The chat window: messages and users side by side, the input line below, status at the bottom.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import LanChatBackend

ApplicationWindow {
    id: window

    required property ChatBridge bridge

    width: 920
    height: 620
    minimumWidth: 400
    minimumHeight: 360
    visible: true
    // The zoom (Ctrl+plus, Ctrl+minus) scales the whole window: every control takes its
    // text size from here, the chat's own texts from ChatSizes.
    font.pixelSize: ChatSizes.px(13)
    // A narrow window gives the chat its whole width: the people are a button away.
    readonly property bool narrow: width < ChatSizes.px(640)
    property bool peopleShown: false
    // The Fusion style draws every control from this palette: one place, both variants.
    palette.window: ChatColors.window
    palette.windowText: ChatColors.text
    palette.base: ChatColors.base
    palette.alternateBase: ChatColors.window
    palette.text: ChatColors.text
    palette.button: ChatColors.button
    palette.buttonText: ChatColors.text
    palette.highlight: ChatColors.highlight
    palette.highlightedText: ChatColors.base
    palette.placeholderText: ChatColors.muted
    palette.toolTipBase: ChatColors.base
    palette.toolTipText: ChatColors.text
    // Lines that arrived while the window was in the background, as other chat programs show.
    property int unread: 0
    title: (unread > 0 ? "(" + unread + ") " : "") + bridge.title
    onActiveChanged: {
        if (active)
            unread = 0;
        bridge.setWindowActive(active);
    }

    function copySelectedLines() {
        if (messageView.selectionFirst >= 0)
            window.bridge.copyLines(messageView.selectionFirst, messageView.selectionLast);
    }

    function setInput(text) {  // a recalled or completed line, the cursor at its end
        input.text = text;
        input.cursorPosition = input.length;
    }

    function submit() {
        if (window.bridge.send(input.text)) {
            input.clear();
            messageView.toLatest();  // your own line always comes into view
        }
        if (!pasteDialog.visible && !nameDialog.visible)  // a question has the keys
            input.forceActiveFocus();
    }

    Shortcut {
        sequences: [StandardKey.ZoomIn, "Ctrl+="]
        onActivated: ChatSizes.zoomIn()
    }
    Shortcut {
        sequences: [StandardKey.ZoomOut]
        onActivated: ChatSizes.zoomOut()
    }
    Shortcut {
        sequence: "Ctrl+0"
        onActivated: ChatSizes.reset()
    }

    // F3 / Shift+F3: the older / newer line of the last search among the lines in the view.
    // With the bar closed they open it, with the last words found again.
    Shortcut {
        sequences: [StandardKey.FindNext]
        onActivated: searchBar.visible ? window.bridge.nextHit() : searchBar.open()
    }
    Shortcut {
        sequences: [StandardKey.FindPrevious]
        onActivated: searchBar.visible ? window.bridge.previousHit() : searchBar.open()
    }

    // Ctrl+C: the text selected in the input field, else the lines selected in the view.
    Shortcut {
        sequences: [StandardKey.Copy]
        onActivated: input.selectedText !== "" ? input.copy() : window.copySelectedLines()
    }

    // Ctrl+F: the search bar (/search WORDS still lists the history's lines, typed).
    Shortcut {
        sequences: [StandardKey.Find]
        onActivated: searchBar.open()
    }

    Connections {
        target: window.bridge
        function onQuitRequested() { window.close(); }
        // Screen readers hear what others write (the view is not read as it changes).
        function onAnnounce(text) { messageView.Accessible.announce(text); }
        function onShowRow(row) { messageView.showRow(row); }
        function onSearchOpened(words) { searchBar.openWith(words); }
        // In from the start screen: its fields are gone, the keys go where the chat is typed.
        function onStateChanged() {
            if (window.bridge.inChat && !input.activeFocus && !searchBar.visible)
                input.forceActiveFocus();
        }
        function onIncoming(count) {
            if (window.active)
                return;
            window.unread += count;
            if (window.bridge.alertWanted)
                window.alert(0);  // the urgency hint: the taskbar asks for attention
        }
        function onPasteConfirmationNeeded(count, preview, why, title) {
            pasteDialog.title = title;
            pasteDialog.lineCount = count;
            pasteDialog.preview = preview;
            pasteDialog.why = why;
            pasteDialog.open();
        }
        function onNameQuestion(question) {
            nameDialog.question = question;
            nameDialog.open();
        }
    }

    // /login or /nick to a name that someone holds: asked first, saying who holds it.
    Dialog {
        id: nameDialog
        objectName: "nameDialog"

        property string question: ""

        anchors.centerIn: parent
        width: Math.min(window.width - 40, 520)
        modal: true
        title: qsTr("That name is in use")
        standardButtons: Dialog.Ok | Dialog.Cancel
        Component.onCompleted: {
            standardButton(Dialog.Ok).text = qsTr("Ask for it");
            standardButton(Dialog.Cancel).text = qsTr("Keep mine");
        }
        onOpened: nameAnswer.forceActiveFocus()

        ColumnLayout {
            anchors.fill: parent
            Label {
                objectName: "nameQuestion"
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                textFormat: Text.PlainText  // holds a name: never markup
                text: nameDialog.question
            }
            Item {
                id: nameAnswer
                objectName: "nameAnswer"
                focus: true
                Keys.onReturnPressed: nameDialog.accept()
                Keys.onEnterPressed: nameDialog.accept()
                Keys.onEscapePressed: nameDialog.reject()
            }
        }

        onAccepted: {
            if (window.bridge.confirmName())
                input.clear();
            input.forceActiveFocus();
        }
        onRejected: {
            window.bridge.cancelName();
            input.forceActiveFocus();
        }
    }

    // A paste of many lines goes out as one message per line, paced: ask first, showing
    // what would go, and answerable from the keyboard (Enter sends, Escape keeps it back):
    // the keys go to the dialog, never to the input field behind it.
    Dialog {
        id: pasteDialog
        objectName: "pasteDialog"

        property int lineCount: 0
        property string preview: ""
        property string why: ""

        anchors.centerIn: parent
        width: Math.min(window.width - 40, 560)
        modal: true
        standardButtons: Dialog.Yes | Dialog.No
        Component.onCompleted: {
            standardButton(Dialog.Yes).text = qsTr("Send");
            standardButton(Dialog.No).text = qsTr("Don't send");
        }
        onOpened: answer.forceActiveFocus()

        ColumnLayout {
            anchors.fill: parent
            spacing: 8

            Label {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                textFormat: Text.PlainText
                text: pasteDialog.why + " " + qsTr("Enter sends, Escape does not.")
            }
            Label {  // the user's own text, as the messages it becomes: plain, one a line
                objectName: "pastePreview"
                Layout.fillWidth: true
                textFormat: Text.PlainText
                wrapMode: Text.WrapAtWordBoundaryOrAnywhere  // inside the dialog
                maximumLineCount: 12
                elide: Text.ElideRight
                font.family: ChatSizes.fixedFamily
                color: ChatColors.muted
                text: pasteDialog.preview
            }
            Item {
                id: answer
                objectName: "pasteAnswer"
                focus: true
                Keys.onReturnPressed: pasteDialog.accept()
                Keys.onEnterPressed: pasteDialog.accept()
                Keys.onEscapePressed: pasteDialog.reject()
            }
        }

        onAccepted: {
            if (window.bridge.confirmPaste())
                input.clear();
            input.forceActiveFocus();
        }
        onRejected: {
            window.bridge.cancelPaste();
            input.forceActiveFocus();
        }
    }

    // Closing the window is leaving the chat (says exit, stops the worker), whether or
    // not the application goes on; aboutToQuit calls the same idempotent shutdown.
    // A window that hosts the chat asks first: closing it ends the chat for everyone.
    property bool endConfirmed: false
    onClosing: close => {
        if (window.bridge.hosting && !window.endConfirmed) {
            close.accepted = false;
            endDialog.people = window.bridge.hostedUsers();
            endDialog.open();
            return;
        }
        window.bridge.shutdown();
    }

    Dialog {
        id: inviteDialog
        objectName: "inviteDialog"
        anchors.centerIn: parent
        width: Math.min(window.width - 40, 420)
        modal: true
        title: qsTr("Invite phones")
        standardButtons: Dialog.Close
        ColumnLayout {
            anchors.fill: parent
            spacing: 12
            Label {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                textFormat: Text.PlainText
                text: qsTr("Phones and laptops on this network scan the code, or open this "
                           + "address in a browser, and join the chat without installing anything:")
            }
            Image {
                id: inviteCode
                objectName: "inviteCode"
                Layout.alignment: Qt.AlignHCenter
                Layout.preferredWidth: Math.min(inviteDialog.width - 60, 260)
                Layout.preferredHeight: Layout.preferredWidth
                fillMode: Image.PreserveAspectFit
                smooth: false  // a QR code's squares stay sharp
                cache: false
                source: inviteDialog.opened ? window.bridge.inviteUrl + "qr.png" : ""
                Accessible.name: qsTr("QR code of %1").arg(window.bridge.inviteUrl)
            }
            Label {
                visible: inviteCode.status === Image.Error
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                textFormat: Text.PlainText
                color: ChatColors.loggedOut
                text: qsTr("The page does not answer from here; it may have stopped.")
            }
            TextField {
                objectName: "inviteAddress"
                Layout.fillWidth: true
                readOnly: true
                selectByMouse: true
                text: window.bridge.inviteUrl
                horizontalAlignment: Text.AlignHCenter
                font.pixelSize: ChatSizes.px(16)
            }
        }
    }

    Dialog {
        id: endDialog
        objectName: "endDialog"
        property int people: 0
        anchors.centerIn: parent
        width: Math.min(window.width - 40, 480)
        modal: true
        title: qsTr("End the chat for everyone?")
        standardButtons: Dialog.Ok | Dialog.Cancel
        Component.onCompleted: {
            standardButton(Dialog.Ok).text = qsTr("End the chat");
            standardButton(Dialog.Cancel).text = qsTr("Keep it open");
        }
        onOpened: endAnswer.forceActiveFocus()
        ColumnLayout {
            anchors.fill: parent
            Label {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                textFormat: Text.PlainText
                text: qsTr("This window hosts the chat (%1 in it). Closing it ends the chat: "
                           + "everyone is told it is over.").arg(endDialog.people)
            }
            Item {
                id: endAnswer
                focus: true
                Keys.onReturnPressed: endDialog.accept()
                Keys.onEnterPressed: endDialog.accept()
                Keys.onEscapePressed: endDialog.reject()
            }
        }
        onAccepted: {
            window.endConfirmed = true;
            window.close();
        }
    }

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: 10
        spacing: 8

        // Not in a chat: the start screen (a name, Join, the chats announced here, another
        // address, Host a chat); no command needed.
        ChatsPanel {
            objectName: "chatsPanel"
            Layout.fillWidth: true
            visible: !window.bridge.inChat
            model: window.bridge.chats
            serverAddress: window.bridge.serverAddress
            suggestedName: window.bridge.suggestedName
            onJoinHereRequested: name => window.bridge.send(name ? "/login " + name : "/login")
            onJoinRequested: (row, name) => window.bridge.joinAs(row, name)
            onAddressJoinRequested: (address, name) => window.bridge.joinAddress(address, name)
            onHostRequested: (title, name) => window.bridge.hostAs(title, name)
        }

        SearchBar {
            id: searchBar
            objectName: "searchBar"
            Layout.fillWidth: true
            visible: false
            number: window.bridge.hitNumber
            count: window.bridge.hitCount
            history: window.bridge.keepsHistory
            onWordsEdited: words => {
                if (window.bridge.findInView(words) === 0)
                    messageView.clearSelection();
            }
            onOlder: window.bridge.nextHit()
            onNewer: window.bridge.previousHit()
            onHistoryRequested: words => window.bridge.searchHistory(words)
            onClosed: {  // back to the conversation: its end, following it
                visible = false;
                window.bridge.findInView("");  // new lines are not looked at any more
                messageView.clearSelection();
                messageView.toLatest();
                input.forceActiveFocus();
            }
        }

        RowLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            spacing: 10

            Item {  // the conversation, and in a narrow window the people over its side
                Layout.fillWidth: true
                Layout.fillHeight: true

                MessageView {
                    id: messageView
                    objectName: "messageView"
                    anchors.fill: parent
                    model: window.bridge.messages
                    onCopyRequested: text => window.bridge.copyText(text)
                    onLinkActivated: url => window.bridge.openLink(url)
                }

                // A narrow window: the people as a drawer over the conversation's right
                // side (beside it, they squeezed the chat to ~220 px at 420), as on the
                // phone page; People or Esc closes it.
                UserPanel {
                    objectName: "userDrawer"
                    visible: window.bridge.inChat && window.narrow && window.peopleShown
                    anchors.top: parent.top
                    anchors.bottom: parent.bottom
                    anchors.right: parent.right
                    width: Math.min(ChatSizes.px(240), parent.width * 0.8)
                    z: 2
                    model: window.bridge.users
                    background: Rectangle {
                        color: ChatColors.window
                        border.color: ChatColors.viewBorder
                        radius: 3
                    }
                }
            }

            UserPanel {
                objectName: "userPanel"
                // out of the chat there is nobody to list (the start screen says where to go)
                visible: window.bridge.inChat && !window.narrow
                Layout.preferredWidth: Math.min(ChatSizes.px(200), window.width * 0.4)
                Layout.fillHeight: true
                model: window.bridge.users
            }
        }

        // Near the protocol's limit (1,024 bytes a datagram, the relay's name included):
        // how much is left, or how much too much, before Enter says "too long".
        Label {
            id: byteCounter
            objectName: "byteCounter"
            readonly property int room: window.bridge.bytesLeft(input.text)
            visible: room < 100
            Layout.alignment: Qt.AlignRight
            textFormat: Text.PlainText
            font.pixelSize: ChatSizes.px(12)
            color: room < 0 ? ChatColors.error : ChatColors.muted
            text: room < 0 ? qsTr("%1 bytes too long").arg(-room) : qsTr("%1 bytes left").arg(room)
            Accessible.name: text
        }

        // The input and its buttons side by side; in a narrow window the buttons go under
        // the input (at 400 px beside Invite phones and People it kept ~80 px: a sentence
        // wrapped a word a line, a trial's screenshot).
        GridLayout {
            id: composer
            objectName: "composer"
            Layout.fillWidth: true
            columns: window.width < ChatSizes.px(560) ? 1 : 2
            columnSpacing: 8
            rowSpacing: 6

            // Several lines (a paste, Shift+Enter) are shown as lines, up to five, then
            // it scrolls; Enter sends.
            ScrollView {
                id: inputScroll
                Layout.fillWidth: true
                // Whole lines: up to five, then a scroll bar says there is more.
                Layout.preferredHeight: Math.min(input.implicitHeight,
                    input.topPadding + input.bottomPadding + inputMetrics.lineSpacing * 5)
                Layout.alignment: Qt.AlignBottom
                ScrollBar.vertical.policy: input.implicitHeight > height ? ScrollBar.AlwaysOn
                                                                         : ScrollBar.AlwaysOff

                FontMetrics {
                    id: inputMetrics
                    font: input.font
                }

                // The cursor stops blinking after 10 s without typing (a solid bar), and
                // blinks again at the next key: a window at rest does not wake for it.
                Timer {
                    id: cursorRest
                    objectName: "cursorRest"
                    interval: 10000
                    running: input.activeFocus
                    onTriggered: window.bridge.restCursor(true)
                }

                TextArea {
                    id: input
                    objectName: "input"
                    onTextChanged: { window.bridge.restCursor(false); cursorRest.restart(); }
                    onCursorPositionChanged: { window.bridge.restCursor(false); cursorRest.restart(); }
                    focus: true
                    wrapMode: TextEdit.Wrap
                    textFormat: TextEdit.PlainText
                    Accessible.name: qsTr("Message")
                    Accessible.description: qsTr("Type a message or a command such as /help, then Enter")
                    // Narrow (a small window, a large zoom): a short hint, not four lines of one.
                    placeholderText: window.bridge.inChat
                        ? (window.width < ChatSizes.px(480) ? qsTr("Message")
                           : window.narrow ? qsTr("Message (/help)")
                                         : qsTr("Type a message and press Enter (/help for commands)"))
                        : (window.narrow ? qsTr("Commands (/help)")
                                         : qsTr("Join above, or type a command here (/help)"))
                    background: Rectangle {
                        color: ChatColors.base
                        border.color: input.activeFocus ? ChatColors.highlight : ChatColors.viewBorder
                        radius: 2
                    }
                    // Enter sends; Shift+Enter starts a new line.
                    Keys.onReturnPressed: event => {
                        if (event.modifiers & Qt.ShiftModifier)
                            event.accepted = false;
                        else
                            window.submit();
                    }
                    Keys.onEnterPressed: event => {
                        if (event.modifiers & Qt.ShiftModifier)
                            event.accepted = false;
                        else
                            window.submit();
                    }
                    // Shift+Up/Down select lines of the chat from the latest (then Ctrl+C), so
                    // copying needs no mouse; Up/Down alone recall your earlier lines (in a
                    // text of several lines they move between its lines).
                    Keys.onUpPressed: event => {
                        if (event.modifiers & Qt.ShiftModifier)
                            messageView.extendSelection(-1);
                        else if (input.text.indexOf("\n") >= 0)
                            event.accepted = false;
                        else
                            window.setInput(window.bridge.previousLine());
                    }
                    Keys.onDownPressed: event => {
                        if (event.modifiers & Qt.ShiftModifier)
                            messageView.extendSelection(1);
                        else if (input.text.indexOf("\n") >= 0)
                            event.accepted = false;
                        else
                            window.setInput(window.bridge.nextLine());
                    }
                    Keys.onEscapePressed: {
                        if (searchBar.visible)
                            searchBar.close();
                        else if (window.narrow && window.peopleShown)
                            window.peopleShown = false;
                        else
                            messageView.clearSelection();
                    }
                    Keys.onTabPressed: window.setInput(window.bridge.completeName(input.text))
                    Keys.onPressed: event => {
                        if (event.matches(StandardKey.Copy) && input.selectedText === "") {
                            window.copySelectedLines();  // nothing selected here: the view's lines
                        } else if (event.key === Qt.Key_PageUp) {
                            messageView.scrollPages(-1);
                        } else if (event.key === Qt.Key_PageDown) {
                            messageView.scrollPages(1);
                        } else if (event.key === Qt.Key_Home && (event.modifiers & Qt.ControlModifier)) {
                            messageView.toFirst();
                        } else if (event.key === Qt.Key_End && (event.modifiers & Qt.ControlModifier)) {
                            messageView.toLatest();
                        } else if (event.key === Qt.Key_Menu
                                   || (event.key === Qt.Key_F10 && (event.modifiers & Qt.ShiftModifier))) {
                            messageView.openLineMenu();  // a line's links and copy, no mouse
                        } else {
                            return;
                        }
                        event.accepted = true;
                    }
                }
            }

            RowLayout {
                Layout.alignment: Qt.AlignRight | Qt.AlignBottom
                spacing: 8

                Button {  // phones and browsers join through a web gateway on the server's host
                    objectName: "inviteButton"
                    horizontalPadding: ChatSizes.px(10)  // at the largest zoom too, not at the border
                    // only while in the chat: after it ended the page it shows is gone (a trial)
                    visible: window.bridge.inviteUrl !== "" && window.bridge.inChat
                    text: qsTr("Invite phones")
                    Accessible.name: qsTr("Show the address and QR code that phones join with")
                    onClicked: inviteDialog.open()
                }

                Button {  // a narrow window: the people, shown or hidden beside the chat
                    objectName: "peopleButton"
                    horizontalPadding: ChatSizes.px(10)  // at the largest zoom too, not at the border
                    visible: window.narrow
                    checkable: true
                    checked: window.peopleShown
                    onToggled: {
                        window.peopleShown = checked;
                        input.forceActiveFocus();  // typing goes on where it went (a trial lost keys)
                    }
                    text: qsTr("People (%1)").arg(window.bridge.users.count)
                    Accessible.name: qsTr("Show who is in the chat")
                }

                Button {
                    objectName: "sendButton"
                    horizontalPadding: ChatSizes.px(10)  // at the largest zoom too, not at the border
                    text: qsTr("Send")
                    Accessible.name: qsTr("Send the message")
                    highlighted: true
                    onClicked: window.submit()
                }
            }
        }

        Label {
            objectName: "statusLine"
            Layout.fillWidth: true
            textFormat: Text.PlainText  // holds our name: never markup
            text: window.bridge.status
            wrapMode: Text.Wrap  // a large zoom or a narrow window: a second line, not "..."
            font.pixelSize: ChatSizes.px(12)
            color: !window.bridge.answering ? ChatColors.error
                 : window.bridge.inChat ? ChatColors.inChat
                 : window.bridge.loggingIn ? ChatColors.loggingIn : ChatColors.loggedOut
        }
    }

    Component.onCompleted: input.forceActiveFocus()
}
