// flowdm chat page: web chat widget extensions (docs/clients.md § Chat page).
// Served at GET /chat/assets/extensions.js; the page passes window.flowdmChatExtensions to
// window.voiceflow.chat.load({assistant: {extensions}}).
//
// The example: a response extension for the payment agent's stopping custom action
// "Pay Credit Card" (diagrams/payment.vf, step 64a101000000000000000006, "stop on action", paths
// success / denied / pending). The widget shows the action's trace as a small payment form; a
// click resumes the turn on the chosen path by sending the path's event as the next action,
// e.g. window.voiceflow.chat.interact({type: 'success', payload: {...}}).
(function () {
  'use strict';

  var ACTION = 'Pay Credit Card';
  var CAPTIONS = { success: 'Pay', denied: 'Cancel', pending: 'Pay later' };

  // The action's payload is text the agent wrote ("{\"amount\": 25}"): JSON when it parses.
  function payloadObject(payload) {
    if (payload && typeof payload === 'object') return payload;
    if (typeof payload !== 'string') return {};
    try {
      var v = JSON.parse(payload);
      return v && typeof v === 'object' ? v : {};
    } catch (e) {
      return {};
    }
  }

  // The trace's paths ([{label, event: {type}}]), else the three of payment.vf.
  function pathsOf(trace) {
    var paths = Array.isArray(trace.paths) ? trace.paths : [];
    var out = [];
    for (var i = 0; i < paths.length; i++) {
      var p = paths[i] || {};
      var type = p.event && typeof p.event.type === 'string' ? p.event.type : null;
      if (type) out.push({ label: typeof p.label === 'string' ? p.label : type, type: type });
    }
    if (out.length === 0) {
      out = [
        { label: 'success', type: 'success' },
        { label: 'denied', type: 'denied' },
        { label: 'pending', type: 'pending' },
      ];
    }
    return out;
  }

  function el(tag, style, text) {
    var e = document.createElement(tag);
    if (style) e.setAttribute('style', style);
    if (text != null) e.textContent = text;
    return e;
  }

  var payment = {
    name: 'flowdm-payment-form',
    type: 'response',
    match: function (args) {
      return !!(args && args.trace && args.trace.type === ACTION);
    },
    render: function (args) {
      var trace = args.trace;
      var element = args.element;
      var data = payloadObject(trace.payload);
      var amount = data.amount != null ? String(data.amount) : '?';

      var form = el(
        'form',
        'display:flex;flex-direction:column;gap:8px;padding:12px;border:1px solid #d9dce3;' +
          'border-radius:8px;background:#fff;font:14px system-ui,sans-serif;min-width:220px'
      );
      form.className = 'flowdm-payment';
      form.appendChild(el('strong', null, 'Payment: $' + amount));
      var card = el('input', 'padding:6px;border:1px solid #c4c8d0;border-radius:4px');
      card.setAttribute('aria-label', 'Card number');
      card.value = '4242 4242 4242 4242';
      form.appendChild(card);
      var status = el('span', 'color:#5b6270;font-size:12px', '');
      var row = el('div', 'display:flex;gap:8px;flex-wrap:wrap');
      var buttons = [];
      pathsOf(trace).forEach(function (path) {
        var b = el(
          'button',
          'padding:6px 12px;border-radius:16px;border:1px solid #2453d4;cursor:pointer;' +
            (path.type === 'success' ? 'background:#2453d4;color:#fff' : 'background:#fff;color:#2453d4'),
          CAPTIONS[path.label] || CAPTIONS[path.type] || path.label
        );
        b.type = 'button';
        b.className = 'flowdm-payment-button';
        b.setAttribute('data-path', path.type);
        b.addEventListener('click', function () {
          buttons.forEach(function (x) {
            x.disabled = true;
          });
          card.disabled = true;
          status.textContent = 'Sent: ' + path.label;
          window.voiceflow.chat.interact({
            type: path.type,
            payload: { amount: data.amount, last4: card.value.replace(/\D/g, '').slice(-4) },
          });
        });
        buttons.push(b);
        row.appendChild(b);
      });
      form.appendChild(row);
      form.appendChild(status);
      form.addEventListener('submit', function (e) {
        e.preventDefault();
      });
      element.appendChild(form);
    },
  };

  window.flowdmChatExtensions = [payment];
})();
