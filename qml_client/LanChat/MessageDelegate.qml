// One chat line, drawn the way everyday chats draw it: own lines on the right in blue,
// others' on the left in grey, raw lines from unknown servers in amber, lines from hosts
// that are not the server in amber with a red frame; system lines small and centred,
// errors in red. Consecutive lines of one sender form a group: the sender's name heads
// the first only (own lines need none: their side says it), each line keeps its time and,
// if it is ours, a small delivery mark in its corner. A day separator heads a day's first
// line. Every piece of foreign text is plain text in a direction island of its own
// (FSI ... PDI), so a right-to-left line cannot move the marks, names or times beside it.
import QtQuick

Item {
    id: root

    // Display text and booleans from the model (MessageRoles): nothing here compares codes.
    required property int index
    required property string lineText
    required property string sender
    required property string timestamp
    required property string markText   // a small sign (a failure keeps its words)
    required property string markWords  // the same in words, for screen readers
    required property bool outgoing
    required property bool inBubble
    required property bool raw
    required property bool foreign
    required property bool isError
    required property bool isSystem
    required property bool failed
    required property bool mention
    required property bool continued  // under the header of the line above
    required property string dayText  // the first line of a day: the day; else ""
    required property var links  // http(s) addresses in the text: the menu opens or copies them
    // The text with its addresses as anchors, everything else escaped (presenter.linked_text);
    // "" for a line without links, which stays plain text as every other line does.
    required property string linkedText

    signal menuRequested(string text, var links)
    signal selectionStarted(int row, bool extend)
    signal selectionMoved(real sceneX, real sceneY)
    signal linkActivated(string url)

    // A system text of several lines (/help) is a table: a column of commands and one of
    // what they do, which wraps by itself in a narrow window (one fixed-width text wrapped
    // raggedly at 420 px); lines that are not "  command   what it does" span both.
    readonly property bool block: lineText.indexOf("\n") >= 0
    readonly property var tableRows: {
        if (!block || inBubble)
            return [];
        const rows = [];
        for (const line of lineText.split("\n")) {
            const cells = /^  (\S.*?)\s{2,}(\S.*)$/.exec(line);
            const more = /^\s{4,}(\S.*)$/.exec(line);
            if (cells)
                rows.push({ "key": cells[1], "what": cells[2] });
            else if (more && rows.length > 0 && rows[rows.length - 1].key !== "")
                rows[rows.length - 1].what += " " + more[1];  // a description's second line
            else
                rows.push({ "key": "", "what": line });
        }
        return rows;
    }
    readonly property bool headed: inBubble && !continued && !outgoing
    // Room for a bubble: most of a wide view, nearly all of a narrow one, and never lines
    // much longer than a reader's eye takes in (about 70 characters).
    readonly property real maxBubble: Math.max(120, Math.min(width * (width < 560 ? 0.92 : 0.78),
                                                             ChatSizes.px(620)))
    readonly property real pad: ChatSizes.px(9)

    width: ListView.view ? ListView.view.width - ListView.view.gutter : 400
    Accessible.role: Accessible.ListItem
    Accessible.name: (outgoing ? qsTr("you") : sender) + (sender || outgoing ? ": " : "")
                     + lineText + (markWords ? ", " + markWords : "")
    implicitHeight: day.height + (inBubble ? bubble.height + (continued ? 2 : 6)
                                           : block ? tableLoader.implicitHeight + 6
                                           : systemText.implicitHeight + 6)

    // The day's first line: its date, centred, between two rules.
    Item {
        id: day
        width: root.width
        height: root.dayText !== "" ? dayLabel.implicitHeight + ChatSizes.px(12) : 0
        visible: root.dayText !== ""
        Rectangle {
            anchors.verticalCenter: parent.verticalCenter
            width: parent.width
            height: 1
            color: ChatColors.viewBorder
        }
        Rectangle {
            anchors.centerIn: parent
            width: dayLabel.implicitWidth + ChatSizes.px(16)
            height: dayLabel.implicitHeight + ChatSizes.px(4)
            radius: height / 2
            color: ChatColors.viewBackground
            border.color: ChatColors.viewBorder
            Text {
                id: dayLabel
                anchors.centerIn: parent
                textFormat: Text.PlainText
                font.pixelSize: ChatSizes.px(11)
                font.bold: true
                color: ChatColors.muted
                text: root.dayText
            }
        }
    }

    Rectangle {
        id: bubble
        visible: root.inBubble
        x: root.outgoing ? root.width - width - 4 : 4
        y: day.height + (root.continued ? 1 : 4)
        // The time and mark sit beside a one-line text when they fit, else under it.
        readonly property bool metaBeside: !root.block
            && bubble.body.implicitWidth + meta.implicitWidth + root.pad * 3 <= root.maxBubble
        width: metaBeside ? Math.max(header.implicitWidth + root.pad * 2,
                                     bubble.body.implicitWidth + meta.implicitWidth + root.pad * 3)
             : Math.min(root.maxBubble, Math.max(header.implicitWidth, bubble.body.implicitWidth,
                                                 meta.implicitWidth) + root.pad * 2)
        height: plainBody.y + bubble.body.height + (metaBeside ? 0 : meta.implicitHeight)
                + ChatSizes.px(5)
        radius: ChatSizes.px(8)
        color: root.outgoing ? ChatColors.ownBubble
             : root.raw || root.foreign ? ChatColors.rawBubble : ChatColors.otherBubble
        border.color: root.failed || root.foreign ? ChatColors.error
                    : root.mention ? ChatColors.mention : "transparent"
        border.width: root.mention ? 2 : 1

        // The group's first line of someone else: who (the server's raw text and strange
        // hosts say what they are instead).
        Text {
            id: header
            x: root.pad
            y: ChatSizes.px(4)
            width: Math.min(implicitWidth, root.maxBubble - root.pad * 2)
            visible: root.headed && text !== ""
            height: visible ? implicitHeight : 0
            textFormat: Text.PlainText
            elide: Text.ElideRight
            font.pixelSize: ChatSizes.px(12)
            font.bold: true
            color: root.foreign ? ChatColors.error : ChatColors.colorFor(root.sender)
            text: !root.headed ? ""
                  : root.foreign ? qsTr("from %1, not the server: not trusted").arg(root.sender)
                  : root.sender !== "" ? "\u2068" + root.sender + "\u2069"
                  : root.raw ? qsTr("(raw from server)") : ""
        }

        // The line's text. A line with addresses is shown by a second Text, StyledText
        // built from escaped text (presenter.linked_text), each address an anchor where it
        // stands, its href the address's index in ``links``; every other line by this
        // PlainText one. Two items, not one whose format follows the line: a delegate
        // reused for another line changed its format and its text in two steps, and
        // between them held a line's raw text as StyledText (a review). The keyboard opens
        // the links from the line's menu (Shift+Up to the line, then the Menu key).
        readonly property Text body: linkedBody.item !== null ? linkedBody.item : plainBody
        Text {
            id: plainBody
            objectName: "linePlain"
            visible: linkedBody.item === null
            x: root.pad
            y: header.visible ? header.y + header.height + 1 : ChatSizes.px(5)
            width: bubble.metaBeside ? implicitWidth : bubble.width - root.pad * 2
            textFormat: Text.PlainText
            wrapMode: Text.Wrap
            font.pixelSize: ChatSizes.px(14)
            font.family: root.raw ? ChatSizes.fixedFamily : Qt.application.font.family
            color: ChatColors.text
            text: root.inBubble && root.linkedText === "" ? "\u2068" + root.lineText + "\u2069" : ""
        }
        Loader {
            id: linkedBody
            active: root.inBubble && root.linkedText !== ""
            x: root.pad
            y: plainBody.y
            sourceComponent: Text {
                id: styled
                objectName: "lineBody"
                width: bubble.metaBeside ? implicitWidth : bubble.width - root.pad * 2
                textFormat: Text.StyledText  // only ever given escaped text with our anchors
                wrapMode: Text.Wrap
                font.pixelSize: ChatSizes.px(14)
                color: ChatColors.text
                linkColor: root.outgoing ? ChatColors.text : ChatColors.own
                text: "\u2068" + root.linkedText + "\u2069"
                onLinkActivated: link => root.linkActivated(root.links[Number(link)])
                HoverHandler {
                    cursorShape: styled.hoveredLink !== "" ? Qt.PointingHandCursor : Qt.ArrowCursor
                }
            }
        }

        // The line's time, and for our own its mark: small, in the bubble's corner.
        Text {
            id: meta
            objectName: "lineMeta"
            anchors.right: parent.right
            anchors.rightMargin: root.pad
            anchors.bottom: parent.bottom
            anchors.bottomMargin: ChatSizes.px(4)
            textFormat: Text.PlainText
            font.pixelSize: ChatSizes.px(10)
            color: root.failed ? ChatColors.error : ChatColors.muted
            text: root.inBubble ? root.timestamp + (root.markText ? " " + root.markText : "") : ""
        }
    }

    // A hidden Text still lays its text out: each of the two gets text only when shown
    // (under a flood every line in sight is laid out again in each frame).
    Text {
        id: systemText
        visible: !root.inBubble
        x: ChatSizes.px(8)
        width: root.width - ChatSizes.px(16)
        y: day.height + 3
        horizontalAlignment: Text.AlignHCenter
        textFormat: Text.PlainText
        wrapMode: Text.Wrap
        font.pixelSize: ChatSizes.px(12)
        color: root.isError ? ChatColors.error : ChatColors.muted
        text: root.inBubble || root.block ? ""
            : (root.isError ? "\u26a0 " : "") + "\u2068" + root.lineText + "\u2069"
              + (root.timestamp ? "  \u00b7 " + root.timestamp : "")  // none: the unread line
    }

    // Only a table's line has one: a Column, its metrics and a Repeater in every line's
    // delegate were made and laid out for nothing (the chat's lines are delegates too).
    Loader {
        id: tableLoader
        active: root.block && !root.inBubble
        x: ChatSizes.px(8)
        y: day.height + 3
        width: root.width - ChatSizes.px(16)
        sourceComponent: Component {
            Column {
                id: table
                objectName: "helpTable"
                width: tableLoader.width
                spacing: 1
                // the commands' column: as wide as the widest command (a fixed-width font)
                readonly property real keyWidth: {
                    let widest = 0;
                    for (const row of root.tableRows)
                        widest = Math.max(widest, row.key.length);
                    return widest > 0 ? (widest + 2) * keyMetrics.averageCharacterWidth : 0;
                }
                FontMetrics {
                    id: keyMetrics
                    font.family: ChatSizes.fixedFamily
                    font.pixelSize: ChatSizes.px(12)
                }
                Repeater {
                    model: root.tableRows
                    delegate: Item {
                        required property var modelData
                        width: table.width
                        height: Math.max(keyText.implicitHeight, whatText.implicitHeight)
                        Text {
                            id: keyText
                            visible: parent.modelData.key !== ""
                            width: table.keyWidth
                            textFormat: Text.PlainText
                            font.family: ChatSizes.fixedFamily
                            font.pixelSize: ChatSizes.px(12)
                            color: ChatColors.text
                            text: parent.modelData.key
                        }
                        Text {
                            id: whatText
                            x: parent.modelData.key !== "" ? table.keyWidth : 0
                            width: parent.width - x
                            textFormat: Text.PlainText
                            wrapMode: Text.Wrap
                            font.pixelSize: ChatSizes.px(12)
                            color: ChatColors.muted
                            text: parent.modelData.what
                        }
                    }
                }
            }
        }
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
                root.menuRequested(root.lineText, root.links);
        }
    }
}
