// Colours shared by the views.
pragma Singleton
import QtQuick

QtObject {
    readonly property color own: "#1565c0"
    readonly property color muted: "#757575"
    readonly property color error: "#c62828"

    // A stable colour per user name, so a busy chat can be followed at a glance.
    function colorFor(name) {
        let hash = 0;
        for (let i = 0; i < name.length; ++i)
            hash = (hash * 31 + name.charCodeAt(i)) % 360;
        return Qt.hsla(hash / 360, 0.6, 0.35, 1);
    }
}
