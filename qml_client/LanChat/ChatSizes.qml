// Text sizes of the chat, scaled by the zoom (Ctrl+plus, Ctrl+minus, Ctrl+0), and the
// fixed-width family for tables and raw lines: the system's own (Theme.fixedFamily), as
// the fontconfig alias "monospace" exists on Linux only.
pragma Singleton
import QtQuick
import LanChatBackend

QtObject {
    property real zoom: 1.0
    readonly property string fixedFamily: Theme.fixedFamily

    function px(size) { return Math.round(size * zoom); }
    function zoomIn() { zoom = Math.min(3.0, zoom * 1.15); }
    function zoomOut() { zoom = Math.max(0.6, zoom / 1.15); }
    function reset() { zoom = 1.0; }
}
