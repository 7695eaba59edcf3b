// MedScribe review page: worklist, draft with its evidence, hints beside the text, edit,
// regenerate, sign. Talks to the gateway's /v1/drafts API with the user's bearer token, which
// comes from the URL fragment (#token=...) or is pasted; it is kept in sessionStorage only.
'use strict';

const I18N = {
  en: {
    title: 'MedScribe review', worklist: 'Worklist', language: 'Language', signin: 'Sign in',
    signin_help: 'Paste an access token (medscribe token issue ...).', continue: 'Continue',
    new_draft: 'New draft', encounter: 'Encounter', or: 'or', accession: 'Accession',
    ai_draft: 'AI draft', patient: 'Patient', study: 'Study', status: 'Status', hints: 'Hints',
    created: 'Created', empty: 'No drafts yet.', level: 'Level', window: 'Window', reset: 'Reset',
    labs: 'Key labs', notes: 'Notes', transcript: 'Dictation', draft: 'Draft', save: 'Save edit',
    regenerate: 'Regenerate', sign: 'Sign', no_transcript: '(no dictation transcript)',
    saved: 'Saved.', signed: 'Signed and written back.', signed_at: 'Signed',
    general: 'Whole report', st_fetching: 'Fetching', st_transcribing: 'Transcribing',
    st_drafting: 'Drafting', st_checking: 'Checking', st_stored: 'Stored', st_done: 'Done',
    st_error: 'Error', status_draft: 'draft', status_signed: 'signed', fhir: 'FHIR DiagnosticReport',
    dicom: 'DICOM SR', no_hints: 'No hints.', confirm_sign: 'Sign this report?',
    signed_in_as: 'Signed in as', switch_user: 'This link signs in as {new}. You are signed in as {old}. Switch to {new}?',
    changed: 'Someone changed this draft since you opened it. It has been reloaded with your text kept in the editor: check it and try again.',
  },
  'zh-Hant': {
    title: 'MedScribe 報告審閱', worklist: '工作清單', language: '語言', signin: '登入',
    signin_help: '請貼上存取權杖（medscribe token issue ...）。', continue: '繼續',
    new_draft: '新草稿', encounter: '就診', or: '或', accession: '檢查單號',
    ai_draft: 'AI 草稿', patient: '病人', study: '檢查', status: '狀態', hints: '提示',
    created: '建立時間', empty: '尚無草稿。', level: '窗位', window: '窗寬', reset: '重設',
    labs: '重要檢驗', notes: '病歷記錄', transcript: '口述', draft: '草稿', save: '儲存修改',
    regenerate: '重新產生', sign: '簽署', no_transcript: '（無口述轉錄）',
    saved: '已儲存。', signed: '已簽署並回寫。', signed_at: '簽署時間',
    general: '整份報告', st_fetching: '擷取中', st_transcribing: '轉錄中',
    st_drafting: '撰寫中', st_checking: '檢查中', st_stored: '已儲存', st_done: '完成',
    st_error: '錯誤', status_draft: '草稿', status_signed: '已簽署', fhir: 'FHIR 診斷報告',
    dicom: 'DICOM 結構化報告', no_hints: '沒有提示。', confirm_sign: '確定簽署此報告？',
    signed_in_as: '目前登入', switch_user: '此連結會以 {new} 登入。您目前以 {old} 登入。要切換為 {new} 嗎？',
    changed: '開啟後此草稿已被他人更改，已重新載入並保留您在編輯區的文字：請確認後再試一次。',
  },
};

const state = { lang: 'en', token: '', draft: null, pixels: null };
const $ = (id) => document.getElementById(id);
const t = (key) => (I18N[state.lang] && I18N[state.lang][key]) || I18N.en[key] || key;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function applyLanguage() {
  document.documentElement.lang = state.lang === 'en' ? 'en' : 'zh-Hant';
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  if (state.draft) renderDraft(state.draft);
  showWho();
}

// `revision`: the draft revision the change is based on (sent as If-Match; the gateway answers
// 412 when the draft has changed since).
async function api(method, path, body, revision) {
  const headers = { Authorization: 'Bearer ' + state.token };
  if (body) headers['Content-Type'] = 'application/json';
  if (revision) headers['If-Match'] = `"${revision}"`;
  const res = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { json = null; }
  if (!res.ok) {
    const msg = json && json.error ? json.error.message : text;
    if (res.status === 401) showLogin();
    const err = new Error(res.status + ': ' + msg);
    err.status = res.status;
    throw err;
  }
  return json;
}

// POSTs and reads newline-delimited JSON progress events; returns the final draft.
async function streamDraft(path, body) {
  const progress = $('progress');
  progress.replaceChildren();
  const res = await fetch(path, {
    method: 'POST',
    headers: { Authorization: 'Bearer ' + state.token, 'Content-Type': 'application/json',
               Accept: 'application/x-ndjson' },
    body: JSON.stringify(Object.assign({ stream: true }, body || {})),
  });
  if (!res.ok) {
    const text = await res.text();
    let msg = text;
    try { msg = JSON.parse(text).error.message; } catch (e) { /* keep text */ }
    throw new Error(res.status + ': ' + msg);
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let result = null;
  let pieces = 0;
  const seen = new Set();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (!line.trim()) continue;
      const ev = JSON.parse(line);
      if (ev.stage === 'text') {
        $('editor').value += ev.detail.delta;
        progress.dataset.pieces = String(++pieces);
        continue;
      }
      if (ev.stage === 'error') throw new Error(ev.status + ': ' + ev.message);
      if (ev.stage === 'done') { result = ev.draft; continue; }
      if (!seen.has(ev.stage)) {
        seen.add(ev.stage);
        for (const s of progress.children) s.classList.add('done');
        progress.append(el('span', { class: 'stage', 'data-stage': ev.stage }, t('st_' + ev.stage) + ' '));
      }
    }
  }
  for (const s of progress.children) s.classList.add('done');
  return result;
}

function showLogin() {
  $('login').hidden = false;
  $('worklist-view').hidden = true;
  $('draft-view').hidden = true;
}

async function showWorklist() {
  $('login').hidden = true;
  $('draft-view').hidden = true;
  $('worklist-view').hidden = false;
  state.draft = null;
  location.hash = '';
  const data = await api('GET', '/v1/drafts?limit=200');
  const body = $('worklist').querySelector('tbody');
  body.replaceChildren();
  for (const d of data.drafts) {
    const hints = [d.hints.critical ? d.hints.critical + ' critical' : '',
                   d.hints.warning ? d.hints.warning + ' warning' : ''].filter(Boolean).join(', ');
    const row = el('tr', { 'data-id': d.id },
                   el('td', {}, d.patient), el('td', {}, d.encounter_id), el('td', {}, d.accession),
                   el('td', {}, d.study), el('td', {}, t('status_' + d.status)),
                   el('td', {}, hints), el('td', {}, d.created_at.replace('T', ' ').slice(0, 19)));
    row.addEventListener('click', () => openDraft(d.id));
    body.append(row);
  }
  $('worklist-empty').hidden = data.drafts.length > 0;
}

async function openDraft(id) {
  const d = await api('GET', '/v1/drafts/' + encodeURIComponent(id));
  showDraft(d);
}

function showDraft(d) {
  $('worklist-view').hidden = true;
  $('draft-view').hidden = false;
  state.draft = d;
  location.hash = 'draft=' + d.id;
  $('editor').value = d.text;
  $('message').textContent = '';
  $('message').className = '';
  loadThumbnail(d.thumbnail);
  renderDraft(d);
}

function renderDraft(d) {
  $('draft-title').textContent = (d.patient.name || '') + ' · ' + (d.study.description || '') +
      ' · ' + (d.study.accession || '');
  // Labs, abnormal ones highlighted.
  const labs = $('labs').querySelector('tbody');
  labs.replaceChildren();
  for (const l of d.record.labs) {
    const abnormal = ['H', 'L', 'HH', 'LL', 'A'].includes(l.interpretation);
    const value = (l.value === null ? '' : l.value) + ' ' + (l.unit || '') +
                  (l.interpretation ? ' (' + l.interpretation + ')' : '');
    labs.append(el('tr', {}, el('td', {}, l.name),
                   el('td', abnormal ? { class: 'abnormal', 'data-abnormal': '1' } : {}, value)));
  }
  $('notes').replaceChildren(...d.notes.map((n) => el('p', { lang: n.language || '' }, n.text)));
  $('transcript').textContent = d.transcript || t('no_transcript');
  renderHints(d);
  const signed = d.status === 'signed';
  for (const id of ['save', 'regenerate', 'sign']) $(id).disabled = signed;
  $('editor').readOnly = signed;
  const wb = $('writeback');
  wb.replaceChildren();
  if (signed) {
    wb.append(el('p', {}, t('signed_at') + ': ' + d.signed_at),
              el('p', {}, t('fhir') + ': ', el('code', {}, d.writeback.fhir || '')),
              el('p', {}, t('dicom') + ': ', el('code', {}, d.writeback.dicom || '')));
  }
}

// Places each hint beside the paragraph it concerns: the paragraph holding its evidence, else
// one naming its subject (from the rule id), else the whole report.
function renderHints(d) {
  const text = $('editor').value;
  const paras = text.split(/\n\s*\n|(?=\b(?:FINDINGS|IMPRESSION|RECOMMENDATION|COMPARISON|INDICATION):)/)
      .map((p) => p.trim()).filter(Boolean);
  const anchored = paras.map(() => []);
  const general = [];
  for (const h of d.hints) {
    let at = -1;
    const ev = String(h.evidence || '').trim();
    if (ev) at = paras.findIndex((p) => p.includes(ev) || (ev.length > 3 && p.toLowerCase().includes(ev.toLowerCase())));
    if (at < 0) {
      const words = h.rule_id.split(/[.-]/).filter((w) => w.length >= 6);
      at = paras.findIndex((p) => words.some((w) => p.toLowerCase().includes(w)));
    }
    if (at >= 0) anchored[at].push(h); else general.push(h);
  }
  const box = $('annotated');
  box.replaceChildren();
  paras.forEach((p, i) => {
    const sev = anchored[i].some((h) => h.severity === 'critical') ? ' critical' : '';
    const div = el('div', { class: 'para' + (anchored[i].length ? ' flagged' + sev : '') }, p);
    for (const h of anchored[i]) div.append(el('span', { class: 'tag' }, '⚑ ' + h.rule_id));
    box.append(div);
  });
  const list = $('hints');
  list.replaceChildren();
  const item = (h, where) => el('li', { class: h.severity, 'data-rule': h.rule_id },
      el('span', { class: 'sev' }, h.severity + ' '), el('span', {}, h.message[state.lang] || h.message.en),
      el('div', { class: 'evidence' }, where + (h.evidence ? ' · ' + h.evidence : '')));
  anchored.forEach((hs, i) => hs.forEach((h) => list.append(item(h, '¶' + (i + 1)))));
  general.forEach((h) => list.append(item(h, t('general'))));
  if (!d.hints.length) list.append(el('li', {}, t('no_hints')));
}

function loadThumbnail(dataUrl) {
  const img = new Image();
  img.onload = () => {
    const c = $('thumb');
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0, c.width, c.height);
    state.pixels = ctx.getImageData(0, 0, c.width, c.height);
    applyWindow();
  };
  img.src = dataUrl;
}

// Window/level on the 8-bit thumbnail: values center ± width/2 map to black..white, per channel
// (a color thumbnail keeps its colors; a grayscale one has three equal channels).
function applyWindow() {
  if (!state.pixels) return;
  const center = Number($('wl-center').value), width = Number($('wl-width').value);
  const src = state.pixels.data;
  const out = new ImageData(state.pixels.width, state.pixels.height);
  const lo = center - width / 2;
  for (let i = 0; i < src.length; i += 4) {
    for (let c = 0; c < 3; ++c)
      out.data[i + c] = Math.max(0, Math.min(255, ((src[i + c] - lo) / width) * 255));
    out.data[i + 3] = 255;
  }
  $('thumb').getContext('2d').putImageData(out, 0, 0);
}

function report(msg, isError) {
  $('message').textContent = msg;
  $('message').className = isError ? 'error' : '';
}

async function guarded(fn) {
  try { await fn(); } catch (e) { report(e.message, true); }
}

// Who a token names, from its claims (not verified here: the gateway verifies every request).
function whoOf(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const c = JSON.parse(atob(part + '='.repeat((4 - part.length % 4) % 4)));
    const name = c.name || c.sub || '?';
    const scope = [c.role, c.department].filter(Boolean).join(', ');
    return scope ? `${name} (${scope})` : name;
  } catch (e) {
    return '?';
  }
}

function showWho() {
  $('who').textContent = state.token ? `${t('signed_in_as')}: ${whoOf(state.token)}` : '';
}

function init() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const offered = fragment.get('token');
  if (offered) {
    // A link never replaces a signed-in user silently: another identity is switched to only
    // when the user says so.
    const current = sessionStorage.getItem('medscribe.token');
    const other = current && current !== offered && whoOf(current) !== whoOf(offered);
    if (!other || window.confirm(t('switch_user').replaceAll('{new}', whoOf(offered))
                                                  .replaceAll('{old}', whoOf(current)))) {
      sessionStorage.setItem('medscribe.token', offered);
    }
    fragment.delete('token');
    history.replaceState(null, '', location.pathname + (fragment.toString() ? '#' + fragment : ''));
  }
  state.token = sessionStorage.getItem('medscribe.token') || '';
  state.lang = localStorage.getItem('medscribe.lang') || (navigator.language.startsWith('zh') ? 'zh-Hant' : 'en');
  $('lang').value = state.lang;
  $('lang').addEventListener('change', () => {
    state.lang = $('lang').value;
    localStorage.setItem('medscribe.lang', state.lang);
    applyLanguage();
  });
  $('token-save').addEventListener('click', () => {
    state.token = $('token-input').value.trim();
    sessionStorage.setItem('medscribe.token', state.token);
    showWho();
    guarded(showWorklist);
  });
  $('nav-worklist').addEventListener('click', () => guarded(showWorklist));
  $('new-draft').addEventListener('submit', (e) => {
    e.preventDefault();
    guarded(async () => {
      const body = {};
      if ($('new-encounter').value.trim()) body.encounter_id = $('new-encounter').value.trim();
      if ($('new-accession').value.trim()) body.accession = $('new-accession').value.trim();
      $('worklist-view').hidden = true;
      $('draft-view').hidden = false;
      $('editor').value = '';
      const d = await streamDraft('/v1/drafts', body);
      if (d) showDraft(d);
    });
  });
  $('editor').addEventListener('input', () => state.draft && renderHints(state.draft));
  for (const id of ['wl-center', 'wl-width']) $(id).addEventListener('input', applyWindow);
  $('wl-reset').addEventListener('click', () => {
    $('wl-center').value = 128;
    $('wl-width').value = 255;
    applyWindow();
  });
  // A change based on a revision someone else has replaced reloads the draft instead.
  const changeDraft = async (method, path, body, done) => {
    try {
      const d = await api(method, path, body, state.draft.revision);
      showDraft(d);
      report(t(done));
    } catch (e) {
      if (e.status !== 412 && e.status !== 409) throw e;
      const mine = $('editor').value;  // the user's text is never thrown away
      showDraft(await api('GET', '/v1/drafts/' + state.draft.id));
      if (state.draft.status !== 'signed') $('editor').value = mine;
      report(t('changed'), true);
    }
  };
  $('save').addEventListener('click', () => guarded(() =>
    changeDraft('PUT', '/v1/drafts/' + state.draft.id, { text: $('editor').value }, 'saved')));
  $('regenerate').addEventListener('click', () => guarded(async () => {
    const d = await streamDraft('/v1/drafts/' + state.draft.id + ':regenerate', {});
    if (d) showDraft(d);
  }));
  $('sign').addEventListener('click', () => guarded(async () => {
    if (!window.confirm(t('confirm_sign'))) return;
    await changeDraft('POST', '/v1/drafts/' + state.draft.id + ':sign', { text: $('editor').value },
                      'signed');
  }));
  applyLanguage();
  showWho();
  if (!state.token) return showLogin();
  const open = new URLSearchParams(location.hash.slice(1)).get('draft');
  guarded(open ? () => openDraft(open) : showWorklist);
}

document.addEventListener('DOMContentLoaded', init);
