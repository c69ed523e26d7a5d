/*
 * The advisor page.
 *
 * Start page: one row per chosen file with a role menu (guessed from the file name) and an
 * anchor radio button; the rows post `roles` (in file order) and `anchor` (the file's index).
 * Result page: polls the job's status until it finishes, then reloads (the page is rendered
 * from the database, so a reload at any time shows the same thing). A finished job gets the
 * study's MixPlayer (static/study/player.js): the stems on one clock, "as uploaded" and
 * "advice applied" as two loudness-matched states. The player is `window.mixadvicePlayer`.
 */
(function () {
  "use strict";

  const POLL_MS = 1000;
  const $ = (selector) => document.querySelector(selector);

  function guessRole(fileName, roles) {
    const name = fileName.toLowerCase();
    const hints = {
      vocals: ["vocal", "vox", "voice", "sing"],
      drums: ["drum", "kick", "snare", "perc"],
      bass: ["bass"],
    };
    for (const role of roles) {
      if ((hints[role] || [role]).some((hint) => name.includes(hint))) return role;
    }
    return roles.includes("other") ? "other" : roles[0];
  }

  function setUpForm() {
    const form = $("#advisor-form");
    if (!form) return;
    const roles = JSON.parse($("#advisor-roles").textContent);
    const picker = form.querySelector("input[type=file][name=stems]");
    const table = $("#stem-rows");
    const body = table.querySelector("tbody");
    const sourceInputs = form.querySelectorAll("input[name=source]");

    function showSource() {
      const chosen = form.querySelector("input[name=source]:checked");
      const demo = chosen && chosen.value === "demo";
      $("#upload-fields").hidden = demo;
      $("#demo-fields").hidden = !demo;
    }
    sourceInputs.forEach((input) => input.addEventListener("change", showSource));
    showSource();

    function buildRows() {
      body.replaceChildren();
      const files = Array.from(picker.files || []);
      files.forEach((file, index) => {
        const row = document.createElement("tr");
        const name = document.createElement("td");
        name.textContent = file.name;
        const roleCell = document.createElement("td");
        const select = document.createElement("select");
        select.name = "roles";
        select.setAttribute("aria-label", `Role of ${file.name}`);
        for (const role of roles) select.add(new Option(role, role));
        select.value = guessRole(file.name, roles);
        roleCell.append(select);
        const anchorCell = document.createElement("td");
        const radio = document.createElement("input");
        radio.type = "radio";
        radio.name = "anchor";
        radio.value = String(index);
        radio.setAttribute("aria-label", `${file.name} is the anchor`);
        if (index === 0) radio.checked = true;
        anchorCell.append(radio);
        row.append(name, roleCell, anchorCell);
        body.append(row);
      });
      table.hidden = files.length === 0;
    }
    if (picker) {
      picker.addEventListener("change", buildRows);
      buildRows();
    }
  }

  async function pollStatus(statusUrl) {
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      let status;
      try {
        const response = await fetch(statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (!response.ok) continue;
        status = await response.json();
      } catch (error) {
        if (!(error instanceof TypeError)) throw error;
        continue; // offline for a moment: try again
      }
      $("#job-progress").value = status.progress;
      $("#job-stage").textContent = status.stage ? `${status.state_label}: ${status.stage}` : status.state_label;
      const hint = $("#job-hint");
      hint.textContent = status.hint;
      hint.hidden = !status.hint;
      if (status.finished) {
        window.location.reload();
        return;
      }
    }
  }

  function setUpProgress() {
    const node = $("#job-status");
    if (!node) return;
    const status = JSON.parse(node.textContent);
    if (!status.finished) pollStatus(`${status.result_url}status/`);
  }

  function setUpPlayer() {
    const node = $("#player-config");
    if (!node || !window.MixPlayer) return;
    const config = JSON.parse(node.textContent);
    const statusLine = $("#player-status");
    const button = $("#play-toggle");
    const switcher = $("#state-switch");
    const player = new window.MixPlayer({
      stems: config.stems,
      states: config.states,
      initialState: config.initialState,
      onProgress: (fraction) => {
        statusLine.textContent = `Loading the stems… ${Math.round(fraction * 100)} %`;
      },
      onStatus: (text) => {
        statusLine.textContent = text;
      },
    });
    window.mixadvicePlayer = player;
    player
      .load()
      .then(() => {
        statusLine.textContent = "Ready: press Play, then switch between the versions.";
        button.disabled = false;
        switcher.disabled = false;
      })
      .catch((error) => {
        statusLine.textContent = `The stems could not be loaded (${error.message}). Reload the page to try again.`;
      });
    button.addEventListener("click", async () => {
      await player.toggle();
      button.textContent = player.playing ? "Pause" : "Play";
    });
    switcher.addEventListener("change", async (event) => {
      if (event.target.name !== "player-state") return;
      await player.ensureContext();
      player.setState(event.target.value);
    });
  }

  setUpForm();
  setUpProgress();
  setUpPlayer();
})();
