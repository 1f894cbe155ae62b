// The till: scan a wallet card's QR with the camera (jsQR), or type/USB-scan a code; then
// earn or redeem. Every write carries an Idempotency-Key made before its first attempt, so a
// double tap or a retry after a network error never doubles.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const video = $("video"), canvas = $("frame"), context = canvas.getContext("2d", { willReadFrequently: true });
  let current = null;        // the customer on screen: {code, balance...}
  let pendingRedeem = null;  // {points, key} while the confirmation is open
  let facing = "environment", stream = null, lastCode = "", lastAt = 0;

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
      throw new Error((data.error && data.error.message) || ("Error " + response.status));
    }
    return data;
  }

  function show(data, code) {
    current = { code, data };
    $("customer").hidden = false;
    $("customer-name").textContent = data.customer.name || "Customer";
    $("member").textContent = data.customer.member_number;
    $("tier").textContent = data.tier || "—";
    $("available").textContent = data.balance.available;
    $("pending").textContent = data.balance.pending;
    $("expiring").textContent = data.expiring || "";
  }

  async function scan(code) {
    try {
      say("Looking up…");
      show(await call("scan", { code }), code);
      say("");
    } catch (e) { say(e.message, true); }
  }

  $("manual").addEventListener("submit", (event) => {
    // USB and Bluetooth scanners type the code and Enter: this form takes it with no click.
    event.preventDefault();
    const code = $("code").value.trim();
    $("code").value = "";
    if (code) scan(code);
  });

  $("earn").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!current) return;
    const form = event.target;
    form.dataset.key = form.dataset.key || crypto.randomUUID();
    const body = { code: current.code, amount: $("amount").value.trim() };
    if ($("reference").value.trim()) body.reference = $("reference").value.trim();
    try {
      const data = await call("earn", body, form.dataset.key);
      delete form.dataset.key;
      show(data, current.code);
      $("amount").value = ""; $("reference").value = "";
      say("Recorded: +" + data.earned + " points");
    } catch (e) { say(e.message, true); }
  });

  $("redeem").addEventListener("submit", (event) => {
    event.preventDefault();
    if (!current) return;
    const points = parseInt($("points").value, 10);
    if (!(points > 0)) { say("Enter the points to redeem", true); return; }
    if (points > current.data.balance.available) {
      say("Not enough points: " + current.data.balance.available + " available", true); return;
    }
    pendingRedeem = { points, key: crypto.randomUUID() };
    $("confirm-points").textContent = points;
    $("confirm-balance").textContent = current.data.balance.available - points;
    $("confirm").hidden = false;
  });

  $("confirm-yes").addEventListener("click", async () => {
    if (!pendingRedeem) return;
    try {
      const data = await call("redeem", { code: current.code, points: pendingRedeem.points }, pendingRedeem.key);
      pendingRedeem = null;
      $("confirm").hidden = true; $("points").value = "";
      show(data, current.code);
      say("Redeemed " + data.redeemed + " points");
    } catch (e) { say(e.message, true); }  // the same key is kept: retrying never doubles
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
      if (found && found.data && (found.data !== lastCode || now - lastAt > 5000)) {
        lastCode = found.data; lastAt = now;
        scan(found.data);
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
