// The till: scan a wallet card's QR with the camera (jsQR), or type/USB-scan a code; then
// earn or redeem. Every write carries an Idempotency-Key made before its first attempt, so a
// double tap or a retry after a network error never doubles.
//
// "New member" enrols a walk-in (POST enrol): the new card is selected, with a QR code of its
// page for the customer's own phone; an existing member's card (409) is selected instead.
//
// The till never acts on the wrong customer: every new scan empties the customer panel first
// (whatever its answer), an answer to an older scan is dropped, and an earn/redeem answer that
// says the card is unknown (or its code no longer valid) empties it too.
//
// The tier discount: as the amount is typed the page asks /quote for the price to charge (the
// card's tier discount off the amount) and shows it; "Record purchase" records what was paid
// plus the discount given, and only for a quote of the amount on screen: without one it asks
// first and says what to charge (the customer must not pay the full price unawares).
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const video = $("video"), canvas = $("frame"), context = canvas.getContext("2d", { willReadFrequently: true });
  const GONE_MS = 3000;      // a code unseen this long, then seen again, is a new scan
  const CLEARS = ["unknown_card", "forged_code"];  // earn/redeem errors that void the panel
  const QUOTE_DELAY_MS = 350; // typing pause before the price is asked for
  let current = null;        // the customer on screen: {code, data}
  let quoted = null;         // {customer, amount, data}: the price shown for the typed amount
  let quoteTimer = null, quotes = 0;
  let pendingRedeem = null;  // {points, key} while the confirmation is open
  let scans = 0;             // number of the latest scan: older answers are dropped
  let facing = "environment", stream = null, lastCode = "", lastSeen = 0;

  function say(text, isError) {
    $("message").textContent = text || "";
    $("message").className = isError ? "error" : "";
  }

  async function call(path, body, key) {
    const headers = { "Content-Type": "application/json", "X-CSRF-Token": window.TILL.csrf };
    if (key) headers["Idempotency-Key"] = key;
    let response;
    try {
      response = await fetch("/api/v1/cashier/" + path, {
        method: "POST", headers, body: JSON.stringify(body), credentials: "same-origin",
      });
    } catch (e) {
      throw new Error("Network down: press the button again (it will not double).");
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      if (response.status === 401) { location.reload(); }
      const error = new Error((data.error && data.error.message) || ("Error " + response.status));
      error.code = data.error && data.error.code;
      error.card = data.card;  // enrol's 409 already_member: the card found
      throw error;
    }
    return data;
  }

  // Money for points at the programme's [redemption] point_value (exact decimal arithmetic on
  // the string, then the browser's currency format); "" when the page has no point value.
  function worth(points) {
    const value = window.TILL.pointValue, currency = window.TILL.currency;
    if (!value || !currency || !/^\d+(\.\d+)?$/.test(value)) return "";
    const [whole, fraction = ""] = value.split(".");
    const minor = BigInt(whole + fraction) * BigInt(points);
    const scale = 10n ** BigInt(fraction.length);
    const amount = Number(minor / scale) + Number(minor % scale) / Number(scale);
    return money(amount, currency);
  }

  function money(amount, currency) {
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(amount);
    } catch (e) { return amount + " " + currency; }
  }

  function clearCustomer() {
    current = null;
    pendingRedeem = null;
    $("customer").hidden = true;
    $("confirm").hidden = true;
    document.body.classList.remove("has-customer");
    ["customer-name", "member", "tier", "available", "pending", "expiring", "balance-value"]
      .forEach((id) => { $(id).textContent = ""; });
    ["amount", "reference", "points"].forEach((id) => { $(id).value = ""; });
    delete $("earn").dataset.key;  // a key made for the last customer is never reused
    clearQuote();
    $("new-card").hidden = true;
    $("card-qr").removeAttribute("src");
  }

  function clearQuote() {
    quoted = null;
    quotes++;  // an answer still on its way is for another amount
    clearTimeout(quoteTimer);
    $("quote").hidden = true;
    $("to-pay").textContent = ""; $("quote-detail").textContent = "";
  }

  function showQuote(customer, amount, data) {
    quoted = { customer, amount, data };
    const currency = data.currency;
    $("to-pay").textContent = money(Number(data.to_pay), currency);
    const off = data.discount && Number(data.discount.amount) > 0
      ? "−" + money(Number(data.discount.amount), currency) + " (" + data.discount.percent + " %) · "
      : "";
    $("quote-detail").textContent = off + "+" + data.points + " points";
    $("quote").hidden = false;
  }

  // The price for the typed amount; null when it cannot be had (the error is shown).
  async function askQuote() {
    const customer = current, amount = $("amount").value.trim(), mine = ++quotes;
    if (!customer || !amount) return null;
    try {
      const data = await call("quote", { code: customer.code, amount });
      if (mine !== quotes || current !== customer) return null;
      showQuote(customer, amount, data);
      return quoted;
    } catch (e) {
      if (mine === quotes) failed(customer, e);
      return null;
    }
  }

  $("amount").addEventListener("input", () => {
    clearQuote();
    if ($("amount").value.trim()) quoteTimer = setTimeout(askQuote, QUOTE_DELAY_MS);
  });

  function show(data, code) {
    // the same customer stays the same object, so an open confirmation stays theirs
    if (current && current.code === code) current.data = data;
    else current = { code, data };
    $("customer-name").textContent = data.customer.name || "Customer";
    $("member").textContent = data.customer.member_number;
    $("tier").textContent = data.tier || "—";
    $("available").textContent = data.balance.available;
    $("pending").textContent = data.balance.pending;
    $("pending").parentElement.hidden = !data.balance.pending;
    $("expiring").textContent = data.expiring || "";
    // The balance's money value, when the API gives it ({"amount", "currency"}).
    const value = data.value && data.value.amount && data.value.currency ? data.value : null;
    $("balance-value").textContent = value ? "= " + money(Number(value.amount), value.currency) : "";
    $("balance-value").hidden = !value;
    $("customer").hidden = false;
    document.body.classList.add("has-customer");
  }

  async function scan(code) {
    const mine = ++scans;
    clearCustomer();
    say("Looking up…");
    try {
      const data = await call("scan", { code });
      if (mine !== scans) return;  // a newer scan took over
      show(data, code);
      say("");
      window.scrollTo(0, 0);
    } catch (e) {
      if (mine === scans) say(e.message, true);
    }
  }

  function failed(customer, e) {
    if (current !== customer) return;
    if (CLEARS.includes(e.code)) clearCustomer();
    say(e.message, true);
  }

  function closeEnrol() {
    const form = $("enrol");
    form.hidden = true;
    form.reset();  // the consent box is unticked again for the next customer
    delete form.dataset.key;
    $("new-member").hidden = false;
  }

  $("new-member").addEventListener("click", () => {
    scans++; clearCustomer(); say("");
    $("new-member").hidden = true;
    $("enrol").hidden = false;
    $("join-name").focus();
  });
  $("enrol-cancel").addEventListener("click", closeEnrol);

  $("enrol").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target, texts = window.TILL.texts;
    const body = { marketing_consent: $("join-consent").checked };
    [["name", "join-name"], ["email", "join-email"], ["phone", "join-phone"], ["birthday", "join-birthday"]]
      .forEach(([field, id]) => { const value = $(id).value.trim(); if (value) body[field] = value; });
    if (!body.email && !body.phone) { say(texts.contact, true); return; }
    // one key per filled-in form: a double tap or a retry makes one member
    const filled = JSON.stringify(body);
    if (form.dataset.body !== filled) { form.dataset.key = crypto.randomUUID(); form.dataset.body = filled; }
    const mine = ++scans;
    say("…");
    try {
      const data = await call("enrol", body, form.dataset.key);
      if (mine !== scans) return;
      closeEnrol();
      show(data, data.code);
      $("card-qr").src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(data.card_qr_svg);
      $("new-card").hidden = false;
      say(texts.joined);
      window.scrollTo(0, 0);
    } catch (e) {
      if (mine !== scans) return;
      if (e.code === "already_member" && e.card) {
        closeEnrol();
        show(e.card, e.card.code);
        say(texts.already);
        window.scrollTo(0, 0);
      } else { say(e.message, true); }
    }
  });

  $("clear").addEventListener("click", () => { scans++; clearCustomer(); say(""); $("code").focus(); });

  $("manual").addEventListener("submit", (event) => {
    // USB and Bluetooth scanners type the code and Enter: this form takes it with no click.
    event.preventDefault();
    const code = $("code").value.trim();
    $("code").value = "";
    if (code) scan(code);
  });

  $("earn").addEventListener("submit", async (event) => {
    event.preventDefault();
    const customer = current;
    if (!customer) return;
    const form = event.target;
    const amount = $("amount").value.trim();
    let price = quoted && quoted.customer === customer && quoted.amount === amount ? quoted : null;
    if (!price) {
      clearTimeout(quoteTimer);  // asked now: the typing pause's own ask would void this one
      price = await askQuote();
      if (price && price.data.discount && Number(price.data.discount.amount) > 0) {
        say("Charge " + $("to-pay").textContent + ", then press Record purchase again");
        return;
      }
      if (!price) return;
    }
    form.dataset.key = form.dataset.key || crypto.randomUUID();
    const body = { code: customer.code, amount };
    const off = price.data.discount;
    if (off && Number(off.amount) > 0) {
      body.amount = price.data.to_pay;  // what the customer paid earns
      body.discount = { percent: off.percent, amount: off.amount };
    }
    if ($("reference").value.trim()) body.reference = $("reference").value.trim();
    try {
      const data = await call("earn", body, form.dataset.key);
      if (current !== customer) return;  // the panel was cleared meanwhile
      delete form.dataset.key;
      show(data, customer.code);
      $("amount").value = ""; $("reference").value = "";
      clearQuote();
      const given = data.discount ? " (discount " + money(Number(data.discount.amount), price.data.currency) + ")" : "";
      say("Recorded: +" + data.earned + " points" + given);
    } catch (e) { failed(customer, e); }
  });

  $("redeem").addEventListener("submit", (event) => {
    event.preventDefault();
    if (!current) return;
    const points = parseInt($("points").value, 10);
    if (!(points > 0)) { say("Enter the points to redeem", true); return; }
    if (points > current.data.balance.available) {
      say("Not enough points: " + current.data.balance.available + " available", true); return;
    }
    pendingRedeem = { points, key: crypto.randomUUID(), customer: current };
    $("confirm-points").textContent = points;
    $("confirm-value").textContent = worth(points);
    $("confirm-worth").hidden = !$("confirm-value").textContent;
    $("confirm-balance").textContent = current.data.balance.available - points;
    $("confirm").hidden = false;
    say("");
  });

  $("confirm-yes").addEventListener("click", async () => {
    const redeem = pendingRedeem;
    if (!redeem || redeem.customer !== current) return;
    const customer = redeem.customer;
    try {
      const data = await call("redeem", { code: customer.code, points: redeem.points }, redeem.key);
      if (current !== customer) return;
      pendingRedeem = null;
      $("confirm").hidden = true; $("points").value = "";
      show(data, customer.code);
      const value = worth(data.redeemed);
      say("Redeemed " + data.redeemed + " points" + (value ? " (" + value + ")" : ""));
    } catch (e) { failed(customer, e); }  // the same key is kept: retrying never doubles
  });
  $("confirm-no").addEventListener("click", () => { pendingRedeem = null; $("confirm").hidden = true; });

  async function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
    try {
      if (stream) stream.getTracks().forEach((t) => t.stop());
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: facing }, audio: false });
      video.srcObject = stream;
      await video.play();
      const track = stream.getVideoTracks()[0];
      const caps = track.getCapabilities ? track.getCapabilities() : {};
      $("torch").hidden = !caps.torch;
      requestAnimationFrame(tick);
    } catch (e) { say("Camera unavailable: type or scan the code instead.", true); }
  }

  function tick() {
    if (video.readyState === video.HAVE_ENOUGH_DATA) {
      canvas.width = video.videoWidth; canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      const found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      const now = Date.now();
      if (found && found.data) {
        // A card held in front of the camera is one scan, not one every few seconds: a code
        // counts again only after it was out of sight, and never while it is on screen.
        const fresh = found.data !== lastCode || now - lastSeen > GONE_MS;
        lastCode = found.data; lastSeen = now;
        if (fresh && !(current && current.code === found.data)) scan(found.data);
      }
    }
    setTimeout(() => requestAnimationFrame(tick), 150);
  }

  $("camera-switch").addEventListener("click", () => {
    facing = facing === "environment" ? "user" : "environment";
    startCamera();
  });
  $("torch").addEventListener("click", () => {
    const track = stream && stream.getVideoTracks()[0];
    if (track) track.applyConstraints({ advanced: [{ torch: !track.torchOn }] }).then(() => { track.torchOn = !track.torchOn; });
  });
  startCamera();
})();
