/* Co-sell Connectors Assistant: mounts the official Bot Framework Web Chat, served by the bot itself.
 *
 * Paste into a page whose origin is listed in the bot's COSELL_TRUSTED_ORIGINS:
 *
 *   <div id="cosell-assistant" style="height: 600px"></div>
 *   <script src="https://BOT-HOST/embed.js" data-target="cosell-assistant" data-locale="it-IT" async></script>
 *
 * data-target: id of the element to mount into (default "cosell-assistant");
 * data-locale: BCP 47 locale (default: ?locale= of the page, then the browser's language);
 * data-web-socket="false": poll for activities instead of the WebSocket stream (for proxies that block WebSockets).
 * The script asks the bot for a Direct Line token (POST /api/directline/token; the Azure secret, if any, never
 * leaves the bot) and connects Web Chat to the returned domain: the bot's embedded endpoint or Azure's.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var bot = new URL(script.src).origin;
  var target = document.getElementById(script.dataset.target || "cosell-assistant");
  var locale = script.dataset.locale || new URLSearchParams(location.search).get("locale") || navigator.language || "en-US";
  var italian = /^it(-|$)/i.test(locale);
  var texts = italian
    ? {
        notLoaded: "Impossibile caricare Web Chat dal bot (botframework-webchat è installato? esegui scripts/bootstrap).",
        refused: "L'assistente ha rifiutato di avviare una conversazione (HTTP "
      }
    : {
        notLoaded: "Web Chat could not be loaded from the bot (is botframework-webchat installed? run scripts/bootstrap).",
        refused: "The assistant refused to start a conversation (HTTP "
      };

  function fail(message) {
    if (target) {
      target.setAttribute("role", "alert");
      target.textContent = message;
    }
  }

  function loadWebChat() {
    if (window.WebChat) return Promise.resolve();
    return new Promise(function (resolve, reject) {
      var tag = document.createElement("script");
      tag.src = bot + "/webchat/webchat.js?v=__WEBCHAT_VERSION__";
      tag.onload = resolve;
      tag.onerror = function () {
        reject(new Error(texts.notLoaded));
      };
      document.head.appendChild(tag);
    });
  }

  function fetchToken() {
    return fetch(bot + "/api/directline/token", { method: "POST", credentials: "omit" }).then(function (resp) {
      if (resp.ok) return resp.json();
      // the bot's reason (rate limited, full, Web Chat not enabled) says more than the status alone
      return resp.json().catch(function () { return {}; }).then(function (body) {
        var reason = body && body.error && body.error.message ? ": " + body.error.message : "";
        throw new Error(texts.refused + resp.status + ")" + reason + ".");
      });
    });
  }

  if (!target) return;
  Promise.all([loadWebChat(), fetchToken()])
    .then(function (results) {
      var session = results[1];
      var directLine = window.WebChat.createDirectLine({
        token: session.token,
        domain: new URL(session.domain, bot).href.replace(/\/$/, ""),
        webSocket: session.webSocket !== false && script.dataset.webSocket !== "false",
        pollingInterval: 500,
        conversationStartProperties: { locale: locale }
      });
      // no uploads: the embedded Direct Line does not implement /upload
      var styleOptions = { hideUploadButton: true };
      window.WebChat.renderWebChat(
        { directLine: directLine, userID: session.userId, locale: locale, styleOptions: styleOptions },
        target
      );
      target.dispatchEvent(new CustomEvent("cosell:ready", { bubbles: true }));
    })
    .catch(function (error) {
      fail(error.message);
    });
})();
