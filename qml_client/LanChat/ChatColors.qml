// Every colour of the window, in one place, in a light and a dark variant. The variant
// follows the desktop's colour scheme (Qt's style hints); --theme forces one.
pragma Singleton
import QtQuick
import LanChatBackend

QtObject {
    readonly property bool dark: Theme.dark  // qml_client/theme.py decides

    readonly property color own: dark ? "#90caf9" : "#1565c0"          // our name and marks
    readonly property color muted: dark ? "#9e9e9e" : "#757575"        // timestamps, system lines
    readonly property color error: dark ? "#ef9a9a" : "#c62828"        // errors, failed marks
    readonly property color text: dark ? "#eceff1" : "#212121"         // chat text
    readonly property color ownBubble: dark ? "#1e3a5f" : "#d7ecff"
    readonly property color otherBubble: dark ? "#2f3437" : "#eceff1"
    readonly property color rawBubble: dark ? "#4a3f1f" : "#fff4d6"    // raw and foreign lines
    readonly property color mention: dark ? "#ffd54f" : "#f9a825"      // a line that names you
    readonly property color selection: dark ? "#2b4f72" : "#cfe3f7"    // lines selected, a hit
    readonly property color viewBackground: dark ? "#1b1d1f" : "#ffffff"
    readonly property color viewBorder: dark ? "#3c4043" : "#c8c8c8"
    readonly property color inChat: dark ? "#81c784" : "#2e7d32"       // the status line
    readonly property color loggingIn: dark ? "#ffb74d" : "#ef6c00"
    readonly property color loggedOut: dark ? "#bdbdbd" : "#616161"
    // The window and its controls (the Fusion style reads these through the palette).
    readonly property color window: dark ? "#232629" : "#efefef"
    readonly property color base: dark ? "#1b1d1f" : "#ffffff"
    readonly property color button: dark ? "#2f3437" : "#e7e7e7"
    readonly property color highlight: dark ? "#42a5f5" : "#1565c0"

    // A stable colour per user name, so a busy chat can be followed at a glance: one of
    // twelve hues set apart (a hue anywhere on the wheel gave Lee, Pia and Samuel three
    // purples a few degrees apart, a trial's screenshot).
    readonly property var hues: [0, 28, 50, 95, 140, 170, 192, 212, 235, 265, 290, 320]
    function colorFor(name) {
        let hash = 0;
        for (let i = 0; i < name.length; ++i)
            hash = (hash * 31 + name.charCodeAt(i)) % 1000003;
        return Qt.hsla(hues[hash % hues.length] / 360, 0.6, dark ? 0.72 : 0.35, 1);
    }
}
