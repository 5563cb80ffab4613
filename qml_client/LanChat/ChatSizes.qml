// Text sizes of the chat, scaled by the zoom (Ctrl+plus, Ctrl+minus, Ctrl+0).
pragma Singleton
import QtQuick

QtObject {
    property real zoom: 1.0

    function px(size) { return Math.round(size * zoom); }
    function zoomIn() { zoom = Math.min(3.0, zoom * 1.15); }
    function zoomOut() { zoom = Math.max(0.6, zoom / 1.15); }
    function reset() { zoom = 1.0; }
}
