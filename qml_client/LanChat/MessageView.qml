// The scrolling list of chat lines; follows new lines unless the user has scrolled up.
import QtQuick
import QtQuick.Controls

Frame {
    id: root

    property alias model: list.model

    signal copyRequested(string text)
    signal linkActivated(string url)
    readonly property alias count: list.count
    readonly property alias following: list.followEnd
    // Lines appended since the view stopped following the end and not in sight (for "jump
    // to latest": lines that arrived where they are seen, below a short conversation, are
    // not "new below").
    readonly property int belowSight: list.lastSeenRow < 0 ? list.count : list.count - 1 - list.lastSeenRow
    readonly property int newBelow: following ? 0
        : Math.max(0, Math.min(model.appended - list.appendedWhenLeft, belowSight))

    // Lines selected with the mouse (rows of the model), -1 when none: Ctrl+C copies them.
    readonly property int selectionFirst: Math.min(list.anchorRow, list.cursorRow)
    readonly property int selectionLast: Math.max(list.anchorRow, list.cursorRow)
    function clearSelection() { list.anchorRow = -1; list.cursorRow = -1; }
    function extendSelection(step) {  // from the keyboard: starts at the latest line
        if (list.count === 0)
            return;
        if (list.anchorRow < 0) {
            list.anchorRow = list.count - 1;
            list.cursorRow = list.count - 1;
        } else {
            list.cursorRow = Math.max(0, Math.min(list.count - 1, list.cursorRow + step));
        }
        list.positionViewAtIndex(list.cursorRow, ListView.Contain);
        list.followEnd = list.cursorRow === list.count - 1;
    }
    function showRow(row) {  // a search hit: in sight, selected, and the view stays there
        if (row === list.count - 1) {  // the last line: at the end, and following it (no
            toLatest();                // "Jump to latest" over the line, none half hidden)
        } else {
            list.followEnd = false;
            list.positionViewAtIndex(row, ListView.Center);
        }
        selectRows(row, row);
    }
    function selectRows(first, last) { list.anchorRow = first; list.cursorRow = last; }

    // Keyboard scrolling (the input field forwards PageUp/PageDown, Ctrl+Home/End).
    function scrollPages(pages) {
        const top = list.originY;
        const bottom = list.originY + Math.max(0, list.contentHeight - list.height);
        list.contentY = Math.max(top, Math.min(bottom, list.contentY + pages * list.height * 0.9));
        list.followEnd = list.contentY >= bottom - 1;
    }
    function toFirst() {
        list.followEnd = false;
        list.positionViewAtBeginning();
    }
    function toLatest() {
        list.followEnd = true;
        list.positionViewAtEnd();
    }

    padding: 4
    Accessible.role: Accessible.List
    Accessible.name: qsTr("Chat messages")
    background: Rectangle {
        color: ChatColors.viewBackground
        border.color: ChatColors.viewBorder
        radius: 3
    }

    ListView {
        id: list
        objectName: "messageList"

        property bool followEnd: true
        // The lines keep clear of the scroll bar (a long system line ran under it).
        readonly property real gutter: vbar.width + 2
        property int anchorRow: -1
        property int cursorRow: -1
        function selectionContains(row) {
            return anchorRow >= 0 && row >= Math.min(anchorRow, cursorRow)
                   && row <= Math.max(anchorRow, cursorRow);
        }
        property int appendedWhenLeft: 0
        onFollowEndChanged: if (!followEnd) appendedWhenLeft = root.model.appended
        // The last row at least partly in sight (a short conversation: the last row); -1
        // if none is known (between two rows).
        readonly property int lastSeenRow: {
            const bottom = Math.min(contentY + height, originY + contentHeight) - 1;
            const row = indexAt(width / 2, bottom);
            return row >= 0 ? row : indexAt(width / 2, bottom - 8);
        }

        // "Jump to latest" has a strip of its own below the lines while the view does not
        // follow the end (over them it hid the text of the lowest one, a trial's
        // screenshot); the strip follows ``following`` alone, so the lines in sight and
        // the button's showing do not decide each other.
        anchors.left: parent.left
        anchors.right: parent.right
        anchors.top: parent.top
        anchors.bottom: root.following ? parent.bottom : jump.top
        anchors.bottomMargin: root.following ? 0 : 6
        clip: true
        spacing: 0
        boundsBehavior: Flickable.StopAtBounds
        reuseItems: true
        delegate: MessageDelegate {
            onLinkActivated: url => root.linkActivated(url)
            onSelectionStarted: (row, extend) => {
                if (!extend || list.anchorRow < 0)
                    list.anchorRow = row;
                list.cursorRow = row;
            }
            onSelectionMoved: (sceneX, sceneY) => {
                const p = list.contentItem.mapFromItem(null, sceneX, sceneY);
                const row = list.indexAt(p.x, p.y);
                if (row >= 0)
                    list.cursorRow = row;
            }
            onMenuRequested: (text, links) => {
                lineMenu.lineText = text;
                lineMenu.links = links;
                lineMenu.popup();
            }
        }

        // Shown whenever there is more than fits: people want to see where they are in the
        // chat (AsNeeded's fade-out would be one more animation started and stopped in a
        // busy pass); not while everything fits, where its handle filled the whole track.
        ScrollBar.vertical: ScrollBar {
            id: vbar
            objectName: "viewScrollBar"
            policy: list.contentHeight > list.height ? ScrollBar.AlwaysOn : ScrollBar.AlwaysOff
        }

        // Follows the end with positionViewAtEnd (by index: it jumps without laying out
        // what it skips). Setting contentY instead kept the 200,000-lines/s flood from
        // reaching the view (88k of 400k lines, stalls of 2.7 s, 480 MB, measured), so
        // this stays, with one known cost: positionViewAtEnd cancels the Flickable fixup
        // that the insertion started (a QQuickTimeLine animation job) in the same pass,
        // and with the basic render loop (offscreen, software) Qt's queued QUnifiedTimer
        // stop then warns "QUnifiedTimer::stopAnimationDriver: driver is not running"
        // (3-12 times per 30,000 lines; never with the threaded loop). Harmless; the tests
        // ignore exactly that line (pyproject.toml, qt_log_ignore).
        // Decided when the call runs, not when it is queued: a PageUp between a new
        // line and the queued call must not be undone.
        function follow() { if (followEnd) positionViewAtEnd(); }
        onMovementEnded: followEnd = atYEnd
        onHeightChanged: if (followEnd) Qt.callLater(list.follow)
        // A line's height is known only once it is laid out (a row of links, a wrap at this
        // width, a zoom): the end moves after positionViewAtEnd, and a view that follows
        // it goes there again, so the last line is never cut off at the bottom.
        onContentHeightChanged: if (followEnd) Qt.callLater(list.follow)
        // Every batch of new lines, not count: once the scrollback is full each batch
        // drops as many old lines as it adds, the count stays the same, and a view that
        // followed count stayed on the line that was last when the scrollback filled.
        Connections {
            target: root.model
            function onAppendedChanged() { if (list.followEnd) Qt.callLater(list.follow); }
            // The scrollback dropped its oldest lines and every row moved up: a selection
            // stays on the lines it holds, and goes once they have all left.
            function onRowsRemoved(parent, first, last) {
                if (list.anchorRow < 0)
                    return;
                const moved = row => row > last ? row - (last - first + 1) : Math.min(row, first - 1);
                list.anchorRow = moved(list.anchorRow);
                list.cursorRow = moved(list.cursorRow);
                if (Math.max(list.anchorRow, list.cursorRow) < 0)
                    root.clearSelection();
                else if (Math.min(list.anchorRow, list.cursorRow) < 0)
                    root.selectRows(Math.max(0, root.selectionFirst), root.selectionLast);
            }
        }
    }

    // Scrolled up while lines arrive: a way back, with how much was missed.
    Button {
        id: jump
        objectName: "jumpToLatest"
        visible: !root.following && root.belowSight > 0  // not while the end is in sight
        anchors.right: parent.right
        anchors.bottom: parent.bottom
        anchors.margins: 4
        text: root.newBelow > 0 ? qsTr("Jump to latest (%1 new)").arg(root.newBelow)
                                : qsTr("Jump to latest")
        onClicked: root.toLatest()
    }

    // The menu of one line from the keyboard (the input's Menu key or Shift+F10): the
    // line selected with Shift+Up, or the latest; its first item current, so the arrows
    // and Enter work at once.
    function openLineMenu() {
        if (list.count === 0)
            return;
        const row = list.cursorRow >= 0 ? list.cursorRow : list.count - 1;
        list.positionViewAtIndex(row, ListView.Contain);
        const line = list.itemAtIndex(row);
        if (line === null)
            return;
        lineMenu.lineText = line.lineText;
        lineMenu.links = line.links;
        lineMenu.popup(line, line.width / 4, line.height / 2);
        lineMenu.currentIndex = 0;
    }

    Menu {
        id: lineMenu
        objectName: "lineMenu"

        property string lineText
        property var links: []

        // Each address of the line: open it, or copy it (it is a link in the text too).
        Instantiator {
            model: lineMenu.links
            delegate: MenuItem {
                required property string modelData
                objectName: "openLinkItem"
                text: qsTr("Open %1").arg(modelData.length > 48
                    ? modelData.slice(0, 30) + "\u2026" + modelData.slice(-15) : modelData)
                onTriggered: root.linkActivated(modelData)
            }
            onObjectAdded: (index, object) => lineMenu.insertItem(index, object)
            onObjectRemoved: (index, object) => lineMenu.removeItem(object)
        }
        Instantiator {  // one address: copy it too (with several, Copy text has them all)
            model: lineMenu.links.length === 1 ? lineMenu.links : []
            delegate: MenuItem {
                required property string modelData
                objectName: "copyLinkItem"
                text: qsTr("Copy link")
                onTriggered: root.copyRequested(modelData)
            }
            onObjectAdded: (index, object) => lineMenu.insertItem(lineMenu.count - 1, object)
            onObjectRemoved: (index, object) => lineMenu.removeItem(object)
        }
        MenuItem {
            objectName: "copyItem"
            text: qsTr("Copy text")
            onTriggered: root.copyRequested(lineMenu.lineText)
        }
    }
}
