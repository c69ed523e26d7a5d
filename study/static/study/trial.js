/*
 * The trial page: loads the trial state from the participant API, drives the MixPlayer,
 * unlocks the scales after the minimum listening time, logs every playback action in
 * batches, and saves the ratings without ever losing them.
 *
 * Saving: one POST with every rating, the feedback and the listening time. The API is
 * idempotent, so a retried POST never duplicates. Network failures and server errors are
 * retried with doubling delays; the page leaves only after the server confirmed the save,
 * and says plainly when it cannot save. A 4xx answer (a bad rating) is shown as it is.
 */
(function () {
  "use strict";

  // Doubling delays between save attempts (about 30 s in all); a test may shorten them.
  const SAVE_DELAYS_MS = window.mixadviceSaveDelaysMs || [1000, 2000, 4000, 8000, 16000];
  const EVENT_BATCH = 20;
  const EVENT_FLUSH_MS = 10000;
  const STATE_LABELS = { as_given: "As given", advice_applied: "Advice applied", reference: "Reference" };

  const config = JSON.parse(document.getElementById("trial-config").textContent);
  const csrfToken = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  const $ = (selector) => document.querySelector(selector);
  const status = $("#player-status");
  const saveStatus = $("#save-status");
  const form = $("#rating-form");
  const playButton = $("#play-toggle");
  const listenMeter = $("#listen-meter");

  let player = null;
  let unlocked = false;
  let saving = false;
  let unsaved = false;
  let events = [];
  let flushing = null;

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  function say(element, text, kind = "info") {
    element.textContent = text;
    element.dataset.kind = kind;
  }

  async function api(method, url, body, { keepalive = false } = {}) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      keepalive,
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let payload = null;
    try {
      payload = await response.json();
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
    }
    return { ok: response.ok, status: response.status, payload };
  }

  // ---- playback log -------------------------------------------------------------------

  function logEvent(event) {
    if (config.preview) return;
    events.push({
      kind: event.type,
      state: event.state,
      audio_time: event.audio_time,
      client_time: Math.round(performance.now()),
      detail: event.detail,
    });
    if (events.length >= EVENT_BATCH) flushEvents();
  }

  /** Post queued events; a failed batch goes back to the front of the queue. */
  async function flushEvents({ keepalive = false } = {}) {
    if (!events.length || !config.events_url) return;
    if (flushing && !keepalive) return flushing;
    const batch = events;
    events = [];
    flushing = (async () => {
      try {
        const result = await api("POST", config.events_url, { events: batch }, { keepalive });
        if (!result.ok && result.status >= 500) events = batch.concat(events);
      } catch (error) {
        events = batch.concat(events);
      } finally {
        flushing = null;
      }
    })();
    return flushing;
  }

  setInterval(() => flushEvents(), EVENT_FLUSH_MS);
  window.addEventListener("pagehide", () => {
    if (!events.length || !config.events_url) return;
    // keepalive fetch survives the page like sendBeacon and, unlike it, carries the CSRF header.
    flushEvents({ keepalive: true });
  });

  // ---- player UI ----------------------------------------------------------------------

  function buildStemRows(stems, anchor) {
    const list = $("#stem-list");
    list.replaceChildren();
    for (const stem of stems) {
      const row = document.createElement("li");
      row.className = "stem";
      const name = document.createElement("span");
      name.className = "stem-name";
      name.textContent = stem.name === anchor ? `${stem.name} (anchor)` : stem.name;
      const solo = document.createElement("button");
      solo.type = "button";
      solo.textContent = "Solo";
      solo.className = "toggle";
      solo.setAttribute("aria-pressed", "false");
      solo.setAttribute("aria-label", `Solo ${stem.name}`);
      solo.addEventListener("click", () => solo.setAttribute("aria-pressed", String(player.toggleSolo(stem.name))));
      const mute = document.createElement("button");
      mute.type = "button";
      mute.textContent = "Mute";
      mute.className = "toggle";
      mute.setAttribute("aria-pressed", "false");
      mute.setAttribute("aria-label", `Mute ${stem.name}`);
      mute.addEventListener("click", () => mute.setAttribute("aria-pressed", String(player.toggleMute(stem.name))));
      row.append(name, solo, mute);
      list.append(row);
    }
  }

  function selectState(name) {
    player.setState(name);
    for (const button of document.querySelectorAll("[data-state]")) {
      button.setAttribute("aria-pressed", String(button.dataset.state === name));
    }
  }

  function refresh() {
    if (!player) return;
    const listened = player.listenedSeconds();
    const needed = config.min_listening_seconds;
    const position = player.position();
    if (document.activeElement !== $("#position")) $("#position").value = String(position);
    $("#position-label").textContent = `${position.toFixed(1)} / ${player.duration.toFixed(1)} s`;
    playButton.textContent = player.playing ? "Pause" : "Play";
    if (!unlocked) {
      const left = Math.max(0, Math.ceil(needed - listened));
      listenMeter.textContent = left > 0 ? `Listen for ${left} more seconds to unlock the scales.` : "";
      if (listened >= needed) unlock();
    }
  }

  function unlock() {
    unlocked = true;
    listenMeter.textContent = "The scales are unlocked.";
    for (const fieldset of form.querySelectorAll("fieldset")) fieldset.disabled = false;
    form.querySelector("button[type=submit]").disabled = false;
  }

  function restoreSaved(saved) {
    if (!saved) return;
    for (const [dimension, score] of Object.entries(saved.ratings || {})) {
      const input = form.querySelector(`input[name="${dimension}"][value="${score}"]`);
      if (input) input.checked = true;
    }
    if (saved.feedback) form.elements.feedback.value = saved.feedback;
  }

  async function loadState() {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const result = await api("GET", config.state_url);
        if (result.ok) return result.payload;
        if (result.status < 500) throw new Error(`the server refused the trial (${result.status})`);
      } catch (error) {
        if (attempt >= SAVE_DELAYS_MS.length) throw error;
      }
      await sleep(SAVE_DELAYS_MS[Math.min(attempt, SAVE_DELAYS_MS.length - 1)]);
    }
  }

  async function start() {
    say(status, "Loading the stems…");
    let state;
    try {
      state = config.state || (await loadState());
    } catch (error) {
      say(status, `The trial could not be loaded: ${error.message}. Reload the page to try again.`, "error");
      return;
    }
    player = new window.MixPlayer({
      stems: state.stems,
      states: state.states,
      initialState: "as_given",
      onEvent: logEvent,
      onProgress: (fraction) => {
        $("#load-progress").value = fraction;
      },
      onStatus: (text) => say(status, text, "warning"),
    });
    window.mixadvicePlayer = player;
    buildStemRows(state.stems, state.anchor);
    restoreSaved(state.saved);
    if (state.listened_seconds) player.listenedBefore = state.listened_seconds;
    try {
      await player.load();
    } catch (error) {
      say(status, `The audio could not be loaded (${error.message}). Check your connection and reload the page.`, "error");
      return;
    }
    $("#position").max = String(player.duration);
    say(status, "Ready. Press Play (or the space bar) to listen.");
    playButton.disabled = false;
    for (const button of document.querySelectorAll("[data-state]")) button.disabled = false;
    setInterval(refresh, 250);
    refresh();
  }

  playButton.addEventListener("click", async () => {
    try {
      await player.toggle();
      say(status, player.playing ? `Playing: ${STATE_LABELS[player.state]}.` : "Paused.");
    } catch (error) {
      say(status, `Playback failed: ${error.message}`, "error");
    }
    refresh();
  });
  document.addEventListener("keydown", (event) => {
    const typing = ["INPUT", "TEXTAREA", "BUTTON", "SELECT"].includes(document.activeElement.tagName);
    if (event.code === "Space" && !typing && player && player.loaded) {
      event.preventDefault();
      playButton.click();
    }
  });
  for (const button of document.querySelectorAll("[data-state]")) {
    button.addEventListener("click", () => {
      selectState(button.dataset.state);
      say(status, `${player.playing ? "Playing" : "Selected"}: ${STATE_LABELS[player.state]}.`);
    });
  }
  $("#loop").addEventListener("change", (event) => player.setLoop(event.target.checked));
  $("#position").addEventListener("change", (event) => player.seek(event.target.value));

  // ---- saving -------------------------------------------------------------------------

  form.addEventListener("change", () => {
    unsaved = true;
  });
  window.addEventListener("beforeunload", (event) => {
    if (unsaved) event.preventDefault();
  });

  function collect() {
    const ratings = {};
    const missing = [];
    for (const fieldset of form.querySelectorAll("fieldset[data-dimension]")) {
      const dimension = fieldset.dataset.dimension;
      const checked = fieldset.querySelector("input:checked");
      if (checked) ratings[dimension] = Number(checked.value);
      else missing.push(fieldset.querySelector("legend").textContent.trim());
    }
    const feedback = form.elements.feedback.value.trim();
    if (config.free_text_required && !feedback) missing.push("your comments");
    return { ratings, feedback, missing };
  }

  async function save(body) {
    for (let attempt = 0; ; attempt += 1) {
      let result = null;
      try {
        result = await api("POST", config.submit_url, body);
      } catch (error) {
        result = null;
      }
      if (result && result.ok) return result.payload || {};
      if (result && result.status < 500 && result.status !== 429) {
        const detail = result.payload ? JSON.stringify(result.payload.detail || result.payload) : `HTTP ${result.status}`;
        throw new Error(`The server did not accept the ratings: ${detail}`);
      }
      if (attempt >= SAVE_DELAYS_MS.length) {
        throw new Error(
          "Your ratings could not be saved: the server cannot be reached. Your answers are still on this page — " +
            "check your connection and press Save again. Do not close this page.",
        );
      }
      const seconds = SAVE_DELAYS_MS[attempt] / 1000;
      say(saveStatus, `Saving failed; trying again in ${seconds} s (attempt ${attempt + 2}).`, "warning");
      await sleep(SAVE_DELAYS_MS[attempt]);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (saving) return;
    const { ratings, feedback, missing } = collect();
    if (!unlocked) {
      say(saveStatus, "Please keep listening until the scales unlock.", "error");
      return;
    }
    if (missing.length) {
      say(saveStatus, `Please answer: ${missing.join(", ")}.`, "error");
      return;
    }
    if (config.preview) {
      unsaved = false;
      say(saveStatus, "Preview: nothing is saved.", "info");
      window.location.assign(config.next_url);
      return;
    }
    saving = true;
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    say(saveStatus, "Saving…");
    try {
      if (player && player.playing) player.pause();
      await save({ ratings, feedback, listened_seconds: player ? Math.round(player.listenedSeconds() * 10) / 10 : 0 });
      await flushEvents();
      say(saveStatus, "Saved.", "ok");
      unsaved = false;
      window.location.assign(config.next_url);
    } catch (error) {
      say(saveStatus, error.message, "error");
      submit.disabled = false;
      saving = false;
    }
  });

  start();
})();
