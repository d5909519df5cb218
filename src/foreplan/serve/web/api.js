// Talking to `foreplan serve`: JSON calls with the API key, the agent's SSE stream read
// from a POST (EventSource can only GET), and server errors turned into sentences.
// Everything goes to the page's own origin: no CDN, no other network.

const KEY_STORE = "foreplan.apiKey";

export function apiKey() {
  return localStorage.getItem(KEY_STORE) || "";
}

export function setApiKey(key) {
  if (key) localStorage.setItem(KEY_STORE, key);
  else localStorage.removeItem(KEY_STORE);
}

/** An error the page can show: a one-line title, the server's message, any problems. */
export class ServerError extends Error {
  constructor(title, detail = "", problems = []) {
    super(detail ? `${title} ${detail}` : title);
    this.title = title;
    this.detail = detail;
    this.problems = problems;
  }
}

/** The OpenAI error body {error: {message, code, ...}} and status → a ServerError. */
export function describeError(status, body, retryAfter) {
  const error = (body && body.error) || {};
  const message = error.message || (typeof body === "string" ? body : "") || "";
  const problems = Array.isArray(error.problems) ? error.problems : [];
  if (status === 401) return new ServerError("The server needs a valid API key. Enter it under “API key”.", message);
  if (status === 429) {
    const wait = retryAfter ? ` Try again in ${retryAfter} s.` : "";
    return new ServerError(`The model is busy: its queue is full.${wait}`, message);
  }
  if (error.code === "plan_invalid") {
    return new ServerError("The planner could not produce a valid plan.", message, problems);
  }
  if (status === 404) return new ServerError("Not found.", message);
  if (status === 413) return new ServerError("The request is too large for this server.", message);
  if (status >= 500 || error.type === "server_error") return new ServerError(`The server failed (${status}).`, message);
  return new ServerError(`The server refused the request (${status}).`, message);
}

async function send(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const key = apiKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (exc) {
    throw new ServerError("Cannot reach the server.", String(exc.message || exc));
  }
  if (!response.ok) {
    const text = await response.text();
    let parsed = text;
    try { parsed = JSON.parse(text); } catch { /* not JSON: show the text */ }
    throw describeError(response.status, parsed, response.headers.get("Retry-After"));
  }
  return response;
}

export async function getJSON(path) {
  return (await send("GET", path)).json();
}

export async function postJSON(path, body) {
  return (await send("POST", path, body)).json();
}

/** POST and yield each `data:` payload of the SSE answer, parsed, until `[DONE]`. */
export async function* postStream(path, body) {
  const response = await send("POST", path, body);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).replace(/^ /, "")).join("\n");
      if (!data) continue;
      if (data === "[DONE]") return;
      yield JSON.parse(data);
    }
  }
}
