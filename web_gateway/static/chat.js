// The chat page. Everything from the network is written with textContent: a name or a
// line is text, never markup, whatever it contains.
"use strict";

const $ = (id) => document.getElementById(id);
const MARKS = { queued: "◷", pending: "…", delivered: "✓", failed: "✗ not relayed",
  unconfirmed: "? not confirmed", sent: "" };
const MARK_WORDS = {
  queued: "waiting to be sent", pending: "sent, not yet relayed", delivered: "relayed to everyone",
  failed: "not relayed", unconfirmed: "not confirmed: nothing came back from the chat", sent: "sent",
};
const GROUP_WITHIN_MS = 5 * 60 * 1000;
// A connection can die without closing (Wi-Fi off, a screen lock): the browser goes on
// "sending" into it for minutes. The page asks (a ping while in the chat, a number on each
// line) and, when nothing comes back in time, drops it and connects again.
const PING_EVERY_MS = 15000;
const ANSWER_WITHIN_MS = 5000;
// A connection opened while the link was down (a locked phone's page still runs now and
// then) waits out TCP's backoff once the link is back: a locked phone stayed "Connection
// lost" for 16 s after it was unlocked. An opening that takes longer is given up and made
// again, and a page seen again (unlocked) does not wait for its next try.
const CONNECT_WITHIN_MS = 5000;
const store = window.sessionStorage;  // per tab: two tabs are two people
const FRAME_BYTES = 3800;  // under the gateway's 4,096-byte frame, as UTF-8 JSON
// This browser's own id, kept across tabs and restarts: a closed tab's waiting session is
// given back to this browser only, not to anyone else who types the name.
const device = localStorage.getItem("lanchat.device") ||
  (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2));
localStorage.setItem("lanchat.device", device);

const page = {
  ws: null,
  token: store.getItem("lanchat.token"),
  atEnd: true,           // the log shows its latest lines (the user has not scrolled up)
  name: store.getItem("lanchat.name"),
  seen: 0,               // frames of the session shown in this page (a reload shows none)
  counting: false,       // frames of the session are counted once "attached" came
  inChat: false,
  leaving: false,
  retries: 0,
  room: 1000,
  me: null,
  people: [],
  last: null,            // {sender, at} of the last chat line shown: for grouping
  lastDay: null,
  mine: new Map(),       // id -> the mark element of an own line
  pendingName: null,     // a Join pressed while the connection was down: sent on open
  idle: false,           // closed by the gateway for not joining in time: no reconnecting
  outbox: [],            // {ref, frame, li}: lines typed, kept until the gateway took them
  asked: null,           // a paste of many lines asked about: the same text again sends it
  lastRef: 0,
  answerTimer: null,     // set while an answer is due: none in time, the connection is dead
  retryTimer: null,      // set while waiting to connect again
};

function connect() {
  clearTimeout(page.retryTimer);
  page.retryTimer = null;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${scheme}//${location.host}/ws`);
  page.ws = ws;
  page.counting = false;
  const opening = setTimeout(() => {
    if (page.ws === ws && ws.readyState === WebSocket.CONNECTING) ws.close();  // then onclose
  }, CONNECT_WITHIN_MS);
  ws.onopen = () => {
    clearTimeout(opening);
    page.retries = 0;
    setLink("Connected", false);
    if (page.name && page.token) {
      send({ t: "login", name: page.name, resume: page.token, seen: page.seen, again: true,
             device });
    } else if (page.name && page.inChat) {
      send({ t: "login", name: page.name, again: true, device });
    } else if (page.pendingName) {
      send({ t: "login", name: page.pendingName, device });
    }
    page.pendingName = null;
  };
  ws.onmessage = (event) => {
    if (page.ws !== ws) return;  // a connection given up as dead
    heard();
    receive(JSON.parse(event.data));
  };
  ws.onclose = (event) => {
    if (page.ws !== ws) return;
    page.ws = null;
    if (event.code === 4001) {  // the same session was opened in another tab: do not fight it
      setLink("Open in another tab", true);
      system("This chat is open in another tab or window. Reload this page to use it here.", true);
      return;
    }
    if (event.code === 4003) {  // nobody joined in time: connect again when someone does
      page.idle = true;
      setLink("", false);
      return;
    }
    if (event.code === 4004) {  // the host ended the chat: say so; join nothing by itself
      chatEnded();
      return;
    }
    if (event.code === 4002) {  // too many pages from this address: try again later, slowly
      setLink("Waiting for a free place", true);
      page.retryTimer = setTimeout(connect, 15000 * (0.75 + Math.random() / 2));
      return;
    }
    const delay = Math.min(8000, 500 * 2 ** page.retries) * (0.75 + Math.random() / 2);
    page.retries += 1;
    const why = event.code === 4000 ? " (this page fell behind)" : "";
    setLink(`Reconnecting…${why}`, true);
    page.retryTimer = setTimeout(connect, delay);
  };
}

// The page is seen again (a phone unlocked, a tab brought back): a live connection is
// asked whether it still is one; one being waited for is made now.
function seenAgain() {
  if (page.ws && page.ws.readyState === WebSocket.OPEN) {
    ping();
  } else if (page.ws && page.ws.readyState === WebSocket.CONNECTING) {
    const stale = page.ws;  // perhaps opened while the link was down: not waited for
    page.ws = null;
    stale.close();
    connect();
  } else if (page.retryTimer !== null) {
    page.retries = 0;
    connect();
  }
}

// --- a connection that died without closing --------------------------------------------

function expectAnswer() {
  if (page.answerTimer === null) page.answerTimer = setTimeout(connectionLost, ANSWER_WITHIN_MS);
}

function heard() {
  clearTimeout(page.answerTimer);
  page.answerTimer = null;
  if (page.outbox.length && page.ws && page.ws.readyState === WebSocket.OPEN) expectAnswer();
}

function connectionLost() {
  page.answerTimer = null;
  const ws = page.ws;
  if (!ws) return;
  page.ws = null;  // its events are ignored from now on; closing a dead link is not awaited
  ws.close();
  setLink("Connection lost: reconnecting…", true);
  clearTimeout(page.retryTimer);
  page.retryTimer = setTimeout(connect, 300);
}

function ping() {
  if (page.inChat && send({ t: "ping" })) expectAnswer();
}

function nextRef() {
  page.lastRef = Math.max(Date.now(), page.lastRef + 1);  // increasing, across reloads too
  return page.lastRef;
}

// A line typed shows at once with a clock, kept until the gateway says it took it; sent
// again (the same number: the gateway takes it once) after a reconnect.
function toOutbox(frame) {
  frame.ref = nextRef();
  const mark = chatLine(page.me, frame.text, Date.now(), true);
  mark.textContent = " ◷";
  mark.title = "waiting for the connection";
  mark.setAttribute("aria-label", "waiting for the connection");
  const li = mark.closest("li");
  li.classList.add("outbox");
  page.outbox.push({ ref: frame.ref, frame, li });
  if (send(frame)) expectAnswer();
}

function sendOutbox() {
  for (const entry of page.outbox) send(entry.frame);
  if (page.outbox.length) expectAnswer();
}

function send(frame) {
  if (page.ws && page.ws.readyState === WebSocket.OPEN) {
    page.ws.send(JSON.stringify(frame));
    return true;
  }
  return false;
}

function setLink(text, down) {
  $("link").textContent = text;
  $("link").classList.toggle("down", down);
  $("link").classList.toggle("ok", text === "In the chat");
}

function receive(frame) {
  if (frame.t === "pong") return;  // the connection is alive: heard() said so
  if (frame.t === "took") {  // its "mine" lines are shown: the kept copy goes
    const at = page.outbox.findIndex((entry) => entry.ref === frame.ref);
    if (at >= 0) page.outbox.splice(at, 1)[0].li.remove();
    return;
  }
  if (frame.t === "hello") {
    if (frame.chat) {  // --title; else "LAN chat", not an address nobody calls the chat by
      $("title").textContent = frame.chat;
      document.title = `${frame.chat} · LAN chat`;
    }
    return;
  }
  if (frame.t === "attached") {
    if (frame.token !== page.token) {
      if (page.token && page.inChat) {
        system("Back in the chat; lines said while you were away are not shown.", false);
      }
      page.token = frame.token;
      store.setItem("lanchat.token", frame.token);
    } else if (frame.gap) {
      system(page.seen === 0 ? "Earlier lines of this chat are not shown here."
                             : "Back in the chat; some lines said while you were away are missing.",
             false);
    }
    page.seen = frame.start;
    page.counting = true;
    return;
  }
  if (page.counting) {
    page.seen += 1;
  }
  const show = SHOW[frame.t];
  if (show) show(frame);
}

const SHOW = {
  state(f) {
    page.room = f.room;
    if (f.state === "in chat") {
      page.me = f.user;
      page.name = f.user;
      store.setItem("lanchat.name", f.user);
      localStorage.setItem("lanchat.lastName", f.user);
      if (!page.inChat) {
        enterChat();
        system("You joined the chat.", false, Date.now());
      }
      if (f.users.length) setPeople(f.users);
      setLink("In the chat", false);
      sendOutbox();  // what a dead connection may have swallowed (taken once)
    } else if (f.state === "logging in") {
      $("join-button").disabled = true;
      $("join-error").textContent = "";
      setLink("Joining…", false);
    } else {
      $("join-button").disabled = false;
      const thrownOut = page.inChat && !page.leaving;
      leaveChat();
      setLink("Not in the chat", false);
      if (thrownOut) {
        const kept = $("join-error").textContent;  // lines given back, if any
        $("join-error").textContent = `You are no longer in the chat. ${kept}`.trim();
      }
    }
  },
  line(f) { chatLine(f.sender, f.text, f.at, false); },
  raw(f) { chatLine(null, f.text, f.at, false, "raw"); },
  mine(f) {
    const mark = chatLine(page.me, f.text, f.at, true);
    toEnd();  // your own line: the view goes to it, wherever you were reading
    mark.dataset.id = f.id;
    page.mine.set(f.id, mark);
    setMark(mark, f.status);
  },
  mark(f) {
    for (const id of f.ids) {
      const mark = page.mine.get(id);
      if (mark) setMark(mark, f.status);
      if (mark && f.status === "failed") offerAgain(mark);
      if (f.status === "delivered" || f.status === "failed") page.mine.delete(id);
    }
    if (f.status === "delivered" && page.inChat) setLink("In the chat", false);
  },
  joined(f) {
    addPerson(f.user);
    const mine = f.user === page.me || (!page.inChat && f.user === page.name);
    if (!mine) arrived(f.user, "joined", f.at);  // our own: "You joined" once in
  },
  left(f) {
    page.people = page.people.filter((p) => p !== f.user);
    drawPeople();
    arrived(f.user, "left", f.at);
  },
  roster(f) { setPeople(f.users); },
  notice(f) { system(f.text, false); },
  error(f) {
    if (f.reason === "server-silent" || f.reason === "not-relayed") {
      setLink("The chat is not answering", true);
    }
    if (page.inChat) system(f.text, true);
    else $("join-error").textContent = f.text;
    if (f.unsent) giveBack(f.unsent);
    if (f.reason === "name-taken" || f.reason === "no-welcome" || f.reason === "taken-over") {
      forgetSession();
    }
  },
};

function enterChat() {
  page.inChat = true;
  page.leaving = false;
  $("join").hidden = true;
  $("chat").hidden = false;
  $("people-button").hidden = false;
  $("text").focus();
}

const NOT_SENT = "Lines you typed were not sent: they are back in the box.";

// Lines never taken go back into the box for the next time (leaving, the chat's end);
// whether there were any, to say so.
function takeBackOutbox() {
  if (!page.outbox.length) return false;
  giveBack(page.outbox.map((entry) => entry.frame.text).join("\n"));
  for (const entry of page.outbox) entry.li.remove();
  page.outbox = [];
  return true;
}

function leaveChat() {
  page.inChat = false;
  if (takeBackOutbox()) $("join-error").textContent = NOT_SENT;
  $("people").classList.remove("open");
  $("people-button").setAttribute("aria-expanded", "false");
  $("chat").hidden = true;
  $("people-button").hidden = true;
  $("join").hidden = false;
  $("name").value = page.name || localStorage.getItem("lanchat.lastName") || "";
  $("name").focus();
  forgetSession();
}

// The host ended the chat: the conversation stays on the screen (a trial's phone lost it
// all, the worksheet's link with it); "Join again" takes the box's place, one tap if the
// same chat starts again, and nothing joins by itself.
function chatEnded() {
  clearTimeout(page.answerTimer);  // an answer due from the old connection is not awaited
  page.answerTimer = null;
  page.idle = true;
  page.leaving = true;
  const kept = takeBackOutbox() ? ` ${NOT_SENT}` : "";
  const wasIn = page.inChat || !$("chat").hidden;  // in it, or its Join again pressed
  page.inChat = false;
  forgetSession();
  page.people = [];
  drawPeople();
  $("people").classList.remove("open");
  $("people-button").setAttribute("aria-expanded", "false");
  $("people-button").hidden = true;
  setLink("The chat has ended", true);
  if (!wasIn) {  // not in it (the join screen): said there
    $("join-button").disabled = false;
    $("join-error").textContent = `The host ended the chat. Press Join if it starts again.${kept}`;
    return;
  }
  $("say-form").hidden = true;
  $("ended-text").textContent = `The host ended the chat. Press Join again if it starts again.${kept}`;
  $("ended").hidden = false;
  $("rejoin").focus();
}

function rejoin() {
  $("ended").hidden = true;
  $("say-form").hidden = false;
  page.leaving = false;
  page.idle = false;
  page.pendingName = page.name;
  setLink("Joining…", false);
  if (page.ws) send({ t: "login", name: page.name, device });
  else connect();
}

function forgetSession() {
  page.token = null;
  page.seen = 0;
  store.removeItem("lanchat.token");
}

// --- the conversation ---------------------------------------------------------------

function nearEnd() {
  const log = $("log");
  return log.scrollHeight - log.scrollTop - log.clientHeight < 48;
}

function append(item) {
  const follow = nearEnd();
  $("log").append(item);
  if (follow) $("log").scrollTop = $("log").scrollHeight;
  else $("to-end").hidden = false;
}

function dayHeading(at) {
  const day = new Date(at).toDateString();
  if (day === page.lastDay) return;
  page.lastDay = day;
  const li = document.createElement("li");
  li.className = "day";
  li.textContent = new Date(at).toLocaleDateString(undefined, {
    weekday: "long", day: "numeric", month: "long", year: "numeric",
  });
  append(li);
  page.last = null;
}

function clock(at) {
  return new Date(at).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

function chatLine(sender, text, at, own, kind) {
  at = at || Date.now();
  dayHeading(at);
  const key = own ? "\u0000me" : sender;
  const continued = page.last && key !== null && page.last.key === key &&
                    at - page.last.at < GROUP_WITHIN_MS;
  const li = document.createElement("li");
  li.className = "msg" + (own ? " mine" : "") + (continued ? " cont" : "") +
                 (kind ? " " + kind : "");
  if (!own && !continued && sender) {
    const who = document.createElement("p");
    who.className = "who";
    who.dir = "auto";
    who.textContent = sender;
    li.append(who);
  }
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  if (own || (continued && sender)) {  // who said it, for a screen reader (shown by place)
    const said = document.createElement("span");
    said.className = "visually-hidden";
    said.textContent = own ? "You: " : `${sender}: `;
    bubble.append(said);
  }
  const words = document.createElement("span");
  words.className = "text";
  words.dir = "auto";
  if (kind === "raw") words.textContent = `The server sent: ${text}`;
  else withLinks(words, text);
  const meta = document.createElement("span");
  meta.className = "meta";
  const time = document.createElement("time");
  time.dateTime = new Date(at).toISOString();
  time.textContent = clock(at);
  const mark = document.createElement("span");
  mark.className = "mark";
  meta.append(time, mark);
  bubble.append(meta, words);
  li.append(bubble);
  append(li);
  page.last = { key, at };
  return mark;
}

// A line not relayed gets a button that sends it again (as chat apps do); the line as it was
// typed comes from the bubble's own text.
function offerAgain(mark) {
  const bubble = mark.closest(".bubble");
  if (bubble.querySelector(".again")) return;
  const again = document.createElement("button");
  again.type = "button";
  again.className = "again";
  again.textContent = "Send again";
  again.addEventListener("click", () => {
    if (send({ t: "say", text: bubble.querySelector(".text").textContent })) again.remove();
  });
  bubble.append(again);
}

function setMark(mark, status) {
  mark.textContent = MARKS[status] ? " " + MARKS[status] : "";
  mark.title = MARK_WORDS[status] || "";
  mark.setAttribute("aria-label", MARK_WORDS[status] || "");
  // a label is read only on an element with a role: the mark is a small picture of a word
  if (MARK_WORDS[status]) mark.setAttribute("role", "img");
  else mark.removeAttribute("role");
  mark.closest(".msg").classList.toggle("failed", status === "failed");
}

// A line about the chat rather than in it; ``name`` (a person's, foreign) leads it in a box
// of its own, so that a right-to-left name does not turn the sentence around it.
function system(text, isError, at, name) {
  if (!page.inChat && !name) {  // the conversation is hidden: say it where it is seen
    $("join-error").textContent = text;
    return;
  }
  if (at) dayHeading(at);
  const li = document.createElement("li");
  li.className = "system" + (isError ? " error" : "");
  if (name) {
    const who = document.createElement("span");
    who.className = "name";
    who.dir = "auto";
    who.textContent = name;
    li.append(who, document.createTextNode(text));
  } else {
    li.dir = "auto";
    li.textContent = text;
  }
  append(li);
  page.last = null;
}

// Joins (or leaves) in a row are one line, as in the window: "a, b and 25 others left".
function arrived(name, verb, at) {
  const log = $("log");
  const last = log.lastElementChild;
  if (last && last.arrivals && last.arrivals.verb === verb && page.inChat) {
    const told = last.arrivals;
    if (told.names.length < 3) told.names.push(name);
    told.count += 1;
    drawArrivals(last);
    return;
  }
  system("", false, at, name);  // a line with the name as a name (isolated)
  const li = log.lastElementChild;
  if (!li || !li.classList.contains("system")) return;  // said elsewhere (not in the chat)
  li.arrivals = { verb, names: [name], count: 1 };
  drawArrivals(li);
}

function drawArrivals(li) {
  const { verb, names, count } = li.arrivals;
  const parts = [];
  const nameSpan = (n) => {
    const span = document.createElement("span");
    span.className = "name";
    span.dir = "auto";
    span.textContent = n;
    return span;
  };
  if (count === 1) parts.push(nameSpan(names[0]), ` ${verb}`);
  else if (count === 2) parts.push(nameSpan(names[0]), " and ", nameSpan(names[1]), ` ${verb}`);
  else if (count === 3) {
    parts.push(nameSpan(names[0]), ", ", nameSpan(names[1]), " and ", nameSpan(names[2]),
               ` ${verb}`);
  } else {
    parts.push(nameSpan(names[0]), ", ", nameSpan(names[1]),
               ` and ${(count - 2).toLocaleString()} others ${verb}`);
  }
  li.replaceChildren(...parts);
}

// http(s) addresses in a line become links (a tap opens them, the keyboard too); the rest
// stays text. Only http and https, checked by the URL parser; never markup.
const LINK = /https?:\/\/[^\s<>"']+/gi;
const TRAILING = /[.,;:!?)\]}'"]+$/;

function withLinks(element, text) {
  let at = 0;
  for (const match of text.matchAll(LINK)) {
    const url = match[0].replace(TRAILING, "");
    let href = null;
    try {
      const parsed = new URL(url);
      if (parsed.protocol === "http:" || parsed.protocol === "https:") href = parsed.href;
    } catch (error) {
      href = null;
    }
    if (!href || url.length <= "https://".length) continue;
    element.append(text.slice(at, match.index));
    const a = document.createElement("a");
    a.href = href;
    a.textContent = url;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    element.append(a);
    at = match.index + url.length;
  }
  element.append(text.slice(at));
}

function toEnd() {
  $("log").scrollTop = $("log").scrollHeight;
  $("to-end").hidden = true;
}

// Lines the gateway could not take (too fast, too many waiting) go back into the box.
function giveBack(text) {
  const box = $("text");
  box.value = box.value ? `${text}\n${box.value}` : text;
  updateCounter();
}

// --- people -------------------------------------------------------------------------

function setPeople(users) {
  page.people = [...users];
  drawPeople();
}

function addPerson(user) {
  if (!page.people.includes(user)) page.people.push(user);
  drawPeople();
}

function drawPeople() {
  const list = $("people-list");
  list.replaceChildren(...page.people.map((user) => {
    const li = document.createElement("li");
    li.dir = "auto";
    li.textContent = user === page.me ? `${user} (you)` : user;
    return li;
  }));
  const count = `People (${page.people.length})`;
  $("people-title").textContent = count;
  $("people-button").textContent = count;
}

// --- typing -------------------------------------------------------------------------

const encoder = new TextEncoder();

function updateCounter() {
  const text = $("text");
  text.style.height = "auto";
  text.style.height = `${Math.min(text.scrollHeight + 2, 136)}px`;
  const longest = Math.max(0, ...text.value.split("\n").map((l) => encoder.encode(l).length));
  const counter = $("counter");
  if (longest > page.room - 100) {
    counter.textContent = longest > page.room
      ? `Too long for one line: ${longest} of ${page.room} bytes (accented letters and ` +
        "emoji take 2 to 4). Shorten it, or split it into several lines."
      : `${page.room - longest} bytes left`;
  } else {
    counter.textContent = "";
  }
  counter.classList.toggle("over", longest > page.room);
  $("send").disabled = longest > page.room;
}

const ASK_ABOVE_LINES = 5;  // a paste of more lines than this is asked about, as in the window

function submitLine(event) {
  event.preventDefault();
  const text = $("text");
  if (!text.value.trim() || $("send").disabled) return;
  const count = text.value.split("\n").filter((line) => line.trim()).length;
  if (count > ASK_ABOVE_LINES && page.asked !== text.value) {
    page.asked = text.value;  // the same text sent again: yes
    const counter = $("counter");
    counter.textContent = `Send these ${count} lines as ${count} messages? Press Send again.`;
    counter.classList.remove("over");
    return;
  }
  page.asked = null;
  const frames = sayFrames(text.value);
  if (!frames) {
    system("One line is too long to send; shorten it.", true);
    return;
  }
  for (const frame of frames) toOutbox(frame);  // shown now, sent now or once back
  toEnd();
  text.value = "";
  updateCounter();
}

// The lines in frames each under the gateway's size, counted as it counts them (UTF-8 bytes
// of the JSON): a paste of long lines in emoji or Chinese goes as several frames, not as
// one the gateway must refuse. Null if a single line cannot fit.
function sayFrames(text) {
  const frames = [];
  let lines = [];
  const size = (ls) => encoder.encode(JSON.stringify({ t: "say", text: ls.join("\n") })).length;
  for (const line of text.split("\n")) {
    if (size([line]) > FRAME_BYTES) return null;
    if (lines.length && size([...lines, line]) > FRAME_BYTES) {
      frames.push({ t: "say", text: lines.join("\n") });
      lines = [];
    }
    lines.push(line);
  }
  if (lines.length) frames.push({ t: "say", text: lines.join("\n") });
  return frames;
}

function join(event) {
  event.preventDefault();
  const name = $("name").value.trim();
  if (!name) {
    $("join-error").textContent = "Type a name first.";
    return;
  }
  page.name = name;
  forgetSession();
  $("join-error").textContent = "";
  if (!send({ t: "login", name, device })) {
    page.pendingName = name;  // sent as soon as the connection is back
    if (page.idle) {  // closed for idling (4003): open it now
      page.idle = false;
      connect();
    }
    $("join-error").textContent = "Not connected yet: you join as soon as it is back.";
  }
}

function setUp() {
  $("join-form").addEventListener("submit", join);
  $("rejoin").addEventListener("click", rejoin);
  $("say-form").addEventListener("submit", submitLine);
  $("text").addEventListener("input", updateCounter);
  $("text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) submitLine(event);
  });
  $("log").addEventListener("scroll", () => {
    page.atEnd = nearEnd();
    if (page.atEnd) $("to-end").hidden = true;
  });
  // A phone turned on its side (or a keyboard opening) changes the log's height: one that
  // showed the latest lines still does, and one scrolled up offers them.
  new ResizeObserver(() => {
    if (page.atEnd !== false) $("log").scrollTop = $("log").scrollHeight;
    else if (!nearEnd()) $("to-end").hidden = false;
  }).observe($("log"));
  $("log").addEventListener("click", () => {  // a tap beside the people closes them
    $("people").classList.remove("open");
    $("people-button").setAttribute("aria-expanded", "false");
  });
  $("to-end").addEventListener("click", toEnd);
  $("people-button").addEventListener("click", () => {
    const open = $("people").classList.toggle("open");
    $("people-button").setAttribute("aria-expanded", String(open));
  });
  $("send").addEventListener("pointerdown", (event) => event.preventDefault());  // the
  // keyboard stays open on a phone: the message field keeps the focus
  $("leave").addEventListener("click", () => {
    const button = $("leave");
    if (!button.dataset.asked) {  // asked first: a tap beside People is easy to make
      button.dataset.asked = "1";
      button.textContent = "Tap again to leave";
      setTimeout(() => {
        delete button.dataset.asked;
        button.textContent = "Leave the chat";
      }, 4000);
      return;
    }
    delete button.dataset.asked;
    button.textContent = "Leave the chat";
    page.leaving = true;
    page.name = null;
    store.removeItem("lanchat.name");
    send({ t: "leave" });
  });
  $("name").value = localStorage.getItem("lanchat.lastName") || "";
  setInterval(ping, PING_EVERY_MS);
  document.addEventListener("visibilitychange", () => {  // a phone unlocked: still there?
    if (document.visibilityState === "visible") seenAgain();
  });
  connect();
}

setUp();
