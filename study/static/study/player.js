/*
 * MixPlayer — every stem of a trial on one Web Audio clock.
 *
 * Stems are fetched (with progress, retried with exponential backoff) and decoded to
 * AudioBuffers before any sound is needed; decoding uses an OfflineAudioContext so no
 * AudioContext exists before the listener's first gesture. On that gesture the player
 * creates (or resumes) one AudioContext and starts every stem's source with the same
 * `when`, so stems can never drift apart.
 *
 * Graph: source[stem] -> gain[stem] -> master -> destination. A listening state
 * ("as_given", "advice_applied", "reference") is a set of per-stem gains plus a master
 * gain for loudness matching, all computed on the server. Switching state, solo and mute
 * only ramp GainNode values (about 30 ms); playback never restarts.
 *
 * State for tests and diagnostics: `player.snapshot()`.
 */
(function (global) {
  "use strict";

  const RAMP_SECONDS = 0.03;
  const START_DELAY_SECONDS = 0.1;
  const DECODE_RATE = 44100;

  function dbToGain(db) {
    return Math.pow(10, (Number(db) || 0) / 20);
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  async function readWithProgress(response, onBytes) {
    const total = Number(response.headers.get("Content-Length")) || 0;
    if (!response.body || !total) {
      const whole = await response.arrayBuffer();
      onBytes(whole.byteLength, whole.byteLength);
      return whole;
    }
    const reader = response.body.getReader();
    const bytes = new Uint8Array(total);
    let received = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes.set(value, received);
      received += value.byteLength;
      onBytes(received, total);
    }
    return bytes.buffer.slice(0, received);
  }

  /** Fetch `url` as an ArrayBuffer, retrying `attempts` times with doubling delays. */
  async function fetchWithRetry(url, { attempts = 4, baseDelayMs = 400, onBytes = () => {}, onRetry = () => {} } = {}) {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const response = await fetch(url, { credentials: "same-origin" });
        if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
        return await readWithProgress(response, onBytes);
      } catch (error) {
        if (attempt >= attempts) throw error;
        const delay = baseDelayMs * 2 ** (attempt - 1);
        onRetry(attempt, delay, error);
        await sleep(delay);
      }
    }
  }

  class MixPlayer {
    /**
     * @param {object} options
     * @param {{name: string, url: string}[]} options.stems
     * @param {Object<string, {gains_db: Object<string, number>, master_db: number}>} options.states
     * @param {string} options.initialState
     * @param {function(object)} [options.onEvent]   every playback action, for the log
     * @param {function(number)} [options.onProgress] loading progress 0..1
     * @param {function(string)} [options.onStatus]   human-readable status lines
     */
    constructor({ stems, states, initialState, onEvent, onProgress, onStatus }) {
      if (!stems || !stems.length) throw new Error("MixPlayer needs at least one stem");
      if (!states || !states[initialState]) throw new Error(`unknown initial state ${initialState}`);
      this.stems = stems;
      this.states = states;
      this.state = initialState;
      this.onEvent = onEvent || (() => {});
      this.onProgress = onProgress || (() => {});
      this.onStatus = onStatus || (() => {});
      this.context = null;
      this.buffers = {};
      this.gains = {};
      this.master = null;
      this.sources = {};
      this.muted = new Set();
      this.soloed = new Set();
      this.loop = true;
      this.playing = false;
      this.startedAt = 0;
      this.offsetAtStart = 0;
      this.listenedBefore = 0;
      this.sourceStarts = 0;
      this.startWhens = {};
      this.generation = 0;
      this.duration = 0;
      this.loaded = false;
    }

    /** Fetch and decode every stem; resolves when all are ready, rejects after retries fail. */
    async load() {
      const progress = Object.fromEntries(this.stems.map((s) => [s.name, 0]));
      const report = () => {
        const values = Object.values(progress);
        this.onProgress(values.reduce((a, b) => a + b, 0) / values.length);
      };
      const decoder = new OfflineAudioContext(2, 1, DECODE_RATE);
      await Promise.all(
        this.stems.map(async (stem) => {
          const data = await fetchWithRetry(stem.url, {
            onBytes: (received, total) => {
              progress[stem.name] = 0.9 * (received / total);
              report();
            },
            onRetry: (attempt, delay) =>
              this.onStatus(`Loading ${stem.name} failed; trying again in ${Math.round(delay / 100) / 10} s (attempt ${attempt + 1}).`),
          });
          this.buffers[stem.name] = await decoder.decodeAudioData(data);
          progress[stem.name] = 1;
          report();
        }),
      );
      this.duration = Math.max(...Object.values(this.buffers).map((b) => b.duration));
      this.loaded = true;
    }

    /** Create or resume the AudioContext. Call from a user gesture (click, key press). */
    async ensureContext() {
      if (!this.context) {
        const Context = global.AudioContext || global.webkitAudioContext;
        this.context = new Context({ latencyHint: "interactive" });
        this.master = this.context.createGain();
        this.master.connect(this.context.destination);
        for (const stem of this.stems) {
          const gain = this.context.createGain();
          gain.connect(this.master);
          this.gains[stem.name] = gain;
        }
        this.applyGains(true);
      }
      if (this.context.state !== "running") await this.context.resume();
      return this.context;
    }

    targetGain(stemName) {
      const audible = this.soloed.size ? this.soloed.has(stemName) : !this.muted.has(stemName);
      if (!audible) return 0;
      const gainsDb = this.states[this.state].gains_db || {};
      return dbToGain(gainsDb[stemName] || 0);
    }

    targetMaster() {
      return dbToGain(this.states[this.state].master_db || 0);
    }

    /** Ramp every GainNode to the current state's targets (instantly when `immediate`). */
    applyGains(immediate = false) {
      if (!this.context) return;
      const now = this.context.currentTime;
      const set = (param, value) => {
        param.cancelScheduledValues(now);
        if (immediate) {
          param.setValueAtTime(value, now);
          return;
        }
        param.setValueAtTime(param.value, now);
        param.linearRampToValueAtTime(value, now + RAMP_SECONDS);
      };
      for (const stem of this.stems) set(this.gains[stem.name].gain, this.targetGain(stem.name));
      set(this.master.gain, this.targetMaster());
    }

    /** Where playback is in the stems, seconds. */
    position() {
      if (!this.playing || !this.context) return this.offsetAtStart;
      const elapsed = Math.max(0, this.context.currentTime - this.startedAt);
      const raw = this.offsetAtStart + elapsed;
      return this.loop ? raw % this.duration : Math.min(raw, this.duration);
    }

    /** Seconds of actual playback so far (the audio clock, not the wall clock). */
    listenedSeconds() {
      if (!this.playing || !this.context) return this.listenedBefore;
      return this.listenedBefore + Math.max(0, this.context.currentTime - this.startedAt);
    }

    emit(type, detail = {}) {
      this.onEvent({
        type,
        state: this.state,
        audio_time: Math.round(this.position() * 1000) / 1000,
        client_time: new Date().toISOString(),
        detail,
      });
    }

    startSources(offset) {
      const when = this.context.currentTime + START_DELAY_SECONDS;
      const generation = ++this.generation;
      for (const stem of this.stems) {
        const source = this.context.createBufferSource();
        source.buffer = this.buffers[stem.name];
        source.loop = this.loop;
        source.connect(this.gains[stem.name]);
        source.start(when, offset % this.duration);
        this.sources[stem.name] = source;
        this.startWhens[stem.name] = when;
        this.sourceStarts += 1;
      }
      const first = this.sources[this.stems[0].name];
      first.onended = () => {
        if (generation === this.generation && this.playing) this.finish();
      };
      this.startedAt = when;
      this.offsetAtStart = offset;
      this.playing = true;
    }

    stopSources() {
      this.generation += 1;
      for (const source of Object.values(this.sources)) {
        source.onended = null;
        try {
          source.stop();
        } catch (error) {
          if (error.name !== "InvalidStateError") throw error;
        }
        source.disconnect();
      }
      this.sources = {};
    }

    halt() {
      this.listenedBefore = this.listenedSeconds();
      this.offsetAtStart = this.position();
      this.playing = false;
      this.stopSources();
    }

    finish() {
      this.halt();
      this.offsetAtStart = 0;
      this.emit("pause", { ended: true });
    }

    async play() {
      if (!this.loaded) throw new Error("stems are not loaded yet");
      await this.ensureContext();
      if (this.playing) return;
      this.startSources(this.offsetAtStart >= this.duration ? 0 : this.offsetAtStart);
      this.emit("play");
    }

    pause() {
      if (!this.playing) return;
      this.halt();
      this.emit("pause");
    }

    async toggle() {
      if (this.playing) this.pause();
      else await this.play();
    }

    seek(seconds) {
      const target = Math.max(0, Math.min(Number(seconds) || 0, this.duration));
      const from = this.position();
      if (this.playing) {
        this.halt();
        this.startSources(target);
      } else {
        this.offsetAtStart = target;
      }
      this.emit("seek", { from: Math.round(from * 1000) / 1000, to: target });
    }

    setLoop(on) {
      this.loop = Boolean(on);
      for (const source of Object.values(this.sources)) source.loop = this.loop;
      this.emit("loop", { on: this.loop });
    }

    setState(name) {
      if (!this.states[name]) throw new Error(`unknown state ${name}`);
      if (name === this.state) return;
      const from = this.state;
      this.state = name;
      this.applyGains();
      this.emit("state_switch", { from, to: name });
    }

    toggleSolo(stemName) {
      if (this.soloed.has(stemName)) this.soloed.delete(stemName);
      else this.soloed.add(stemName);
      this.applyGains();
      this.emit("solo", { stem: stemName, on: this.soloed.has(stemName) });
      return this.soloed.has(stemName);
    }

    toggleMute(stemName) {
      if (this.muted.has(stemName)) this.muted.delete(stemName);
      else this.muted.add(stemName);
      this.applyGains();
      this.emit("mute", { stem: stemName, on: this.muted.has(stemName) });
      return this.muted.has(stemName);
    }

    /** Everything a test or a bug report needs to know, as plain data. */
    snapshot() {
      const gains = {};
      const targets = {};
      for (const stem of this.stems) {
        gains[stem.name] = this.gains[stem.name] ? this.gains[stem.name].gain.value : null;
        targets[stem.name] = this.targetGain(stem.name);
      }
      return {
        contextState: this.context ? this.context.state : "none",
        currentTime: this.context ? this.context.currentTime : 0,
        loaded: this.loaded,
        playing: this.playing,
        state: this.state,
        loop: this.loop,
        duration: this.duration,
        position: this.position(),
        listenedSeconds: this.listenedSeconds(),
        sourceStarts: this.sourceStarts,
        startWhens: { ...this.startWhens },
        gains,
        targetGains: targets,
        masterGain: this.master ? this.master.gain.value : null,
        targetMaster: this.targetMaster(),
        muted: [...this.muted],
        soloed: [...this.soloed],
      };
    }
  }

  global.MixPlayer = MixPlayer;
  global.MixPlayer.fetchWithRetry = fetchWithRetry;
  global.MixPlayer.dbToGain = dbToGain;
})(window);
