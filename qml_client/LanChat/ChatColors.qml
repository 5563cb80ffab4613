// Every colour of the window, in one place.
pragma Singleton
import QtQuick

QtObject {
    readonly property color own: "#1565c0"          // our name and marks
    readonly property color muted: "#757575"        // timestamps, system lines
    readonly property color error: "#c62828"        // errors, failed marks, untrusted frames
    readonly property color text: "#212121"         // chat text
    readonly property color ownBubble: "#d7ecff"
    readonly property color otherBubble: "#eceff1"
    readonly property color rawBubble: "#fff4d6"    // raw and foreign lines: amber
    readonly property color viewBackground: "#ffffff"
    readonly property color viewBorder: "#c8c8c8"
    readonly property color inChat: "#2e7d32"       // the status line, by state
    readonly property color loggingIn: "#ef6c00"
    readonly property color loggedOut: "#616161"

    // A stable colour per user name, so a busy chat can be followed at a glance.
    function colorFor(name) {
        let hash = 0;
        for (let i = 0; i < name.length; ++i)
            hash = (hash * 31 + name.charCodeAt(i)) % 360;
        return Qt.hsla(hash / 360, 0.6, 0.35, 1);
    }
}
