/* Mount the rasa-webchat widget (served locally from /static/vendor) in the page.
   window.OCOP_SOCKET_URL comes from /config.js (ops/web.py; under make prod, nginx). */
(function () {
  "use strict";

  var container = document.getElementById("webchat");
  if (!window.WebChat || !window.WebChat.default) {
    // the hotline number is the page's own (filled from the contact table by ops/web.py, or by ops/nginx.py for make prod)
    var hotline = document.querySelector("[data-hotline]");
    container.textContent = "Không tải được khung trò chuyện. Anh/chị vui lòng gọi đường dây nóng " +
      (hotline ? hotline.textContent : "") + ".";
    return;
  }

  window.WebChat.default(
    {
      socketUrl: window.OCOP_SOCKET_URL || window.location.protocol + "//" + window.location.hostname + ":5005",
      socketPath: "/socket.io/",
      // sent once when a new conversation starts (not shown as a user message)
      initPayload: "xin chào",
      title: "Trợ lý OCOP",
      subtitle: "Mỗi xã một sản phẩm · An Giang",
      inputTextFieldHint: "Nhập câu hỏi của anh/chị…",
      connectingText: "Đang kết nối tới máy chủ…",
      embedded: true,
      showCloseButton: false,
      showFullScreenButton: false,
      hideWhenNotConnected: false,
      withRules: false,
      // keep the conversation (and its session id) across page reloads
      params: { storage: "local" },
      customMessageDelay: function (message) {
        return Math.min(900, 200 + 4 * (message || "").length);
      },
      mainColor: "#a3161a",
      userBackgroundColor: "#a3161a",
      userTextColor: "#ffffff",
      assistBackgoundColor: "#f3f4f6",
      assistTextColor: "#1f2937"
    },
    container
  );

  // Hotline buttons arrive as web_url quick replies with tel:/mailto: links (see
  // bot/channels/socketio.py). Open them in place rather than in a blank tab.
  document.addEventListener(
    "click",
    function (event) {
      var link = event.target.closest && event.target.closest('a[href^="tel:"], a[href^="mailto:"]');
      if (link) {
        link.removeAttribute("target");
      }
    },
    true
  );
})();
