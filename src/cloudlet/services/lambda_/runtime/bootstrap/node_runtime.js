// cloudlet's runtime client for nodejs*.x functions: the Lambda Runtime API loop.
//
// Loads "<file>.<export>" from LAMBDA_TASK_ROOT (CommonJS .js/.cjs, ES modules .mjs or a
// .js under "type": "module"), runs async handlers and callback handlers, and answers in
// the shapes AWS's Node.js runtime uses: console lines "<time>\t<request id>\tINFO\t<msg>",
// error documents {errorType, errorMessage, trace}. Only node's own modules are used.
"use strict";

const http = require("http");
const path = require("path");
const fs = require("fs");
const util = require("util");
const { pathToFileURL } = require("url");

// read once the sandbox is known (a spare learns its variables after it started)
let HOST, PORT;
function runtimeApi() {
  const api = process.env.AWS_LAMBDA_RUNTIME_API || "";
  const at = api.lastIndexOf(":");
  [HOST, PORT] = [api.slice(0, at), Number(api.slice(at + 1))];
}
const API = "/2018-06-01/runtime";
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(method, urlPath, body, headers) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
    const req = http.request(
      { host: HOST, port: PORT, method, path: urlPath, agent,
        headers: Object.assign({ "Content-Length": data.length }, headers || {}) },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      }
    );
    req.on("error", reject);
    req.end(data);
  });
}

// logging: one CloudWatch event per call (inner newlines become \r, as AWS's runtime did)
let currentRequestId = undefined;
const LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
function patchConsole() {
  // LogFormat JSON (LoggingConfig): one JSON record per call, below ApplicationLogLevel dropped
  const json = process.env.AWS_LAMBDA_LOG_FORMAT === "JSON";
  const threshold = Math.max(0, LEVELS.indexOf((process.env.AWS_LAMBDA_LOG_LEVEL || "INFO").toUpperCase()));
  const write = (level) => {
    if (json && LEVELS.indexOf(level) < threshold) return () => {};
    if (json) {
      return (...args) => {
        const record = { timestamp: new Date().toISOString(), level, requestId: currentRequestId, message: util.format(...args) };
        process.stdout.write(JSON.stringify(record) + "\n");
      };
    }
    return (...args) => {
      const msg = util.format(...args).replace(/\n/g, "\r");
      process.stdout.write(`${new Date().toISOString()}\t${currentRequestId}\t${level}\t${msg}\n`);
    };
  };
  console.log = write("INFO");
  console.info = write("INFO");
  console.warn = write("WARN");
  console.error = write("ERROR");
  console.debug = write("DEBUG");
  console.trace = write("TRACE");
  console.fatal = write("FATAL");
}

function errorDoc(err) {
  if (err instanceof Error) {
    return {
      errorType: err.name || "Error",
      errorMessage: err.message,
      trace: typeof err.stack === "string" ? err.stack.split("\n") : [],
    };
  }
  // a thrown/returned non-Error: AWS wraps it
  let message;
  try { message = typeof err === "string" ? err : JSON.stringify(err); } catch (_) { message = String(err); }
  return { errorType: typeof err === "object" && err !== null ? "object" : typeof err, errorMessage: message, trace: [] };
}

class RuntimeError extends Error {
  constructor(name, message) { super(message); this.name = name; }
}

async function postError(urlPath, doc) {
  await request("POST", urlPath, JSON.stringify(doc), {
    "Content-Type": "application/json",
    "Lambda-Runtime-Function-Error-Type": doc.errorType,
  });
}

function findModule(root, moduleName) {
  // AWS looks for .js, .mjs, .cjs in that order
  for (const ext of [".js", ".mjs", ".cjs"]) {
    const file = path.resolve(root, moduleName + ext);
    if (fs.existsSync(file)) return file;
  }
  return null;
}

function isEsm(file) {
  if (file.endsWith(".mjs")) return true;
  if (file.endsWith(".cjs")) return false;
  let dir = path.dirname(file);
  for (;;) {  // the nearest package.json decides a .js file's module type
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg)) {
      try { return JSON.parse(fs.readFileSync(pkg, "utf8")).type === "module"; } catch (_) { return false; }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return false;
    dir = parent;
  }
}

async function loadHandler(root, handlerString) {
  const dot = handlerString.lastIndexOf(".");
  if (dot < 0) {
    throw new RuntimeError("Runtime.MalformedHandlerName", `Bad handler ${handlerString}`);
  }
  const moduleName = handlerString.slice(0, dot);
  const exportPath = handlerString.slice(dot + 1);
  const file = findModule(root, moduleName);
  let mod;
  try {
    if (file === null) {
      // not a file in the task root: maybe a package on NODE_PATH (layers)
      mod = require(moduleName);
    } else if (isEsm(file)) {
      mod = await import(pathToFileURL(file).href);
    } else {
      mod = require(file);
    }
  } catch (e) {
    if (e instanceof SyntaxError) {
      throw new RuntimeError("Runtime.UserCodeSyntaxError", `${e.name}: ${e.message}`);
    }
    if (e && (e.code === "MODULE_NOT_FOUND" || e.code === "ERR_MODULE_NOT_FOUND")) {
      throw new RuntimeError("Runtime.ImportModuleError", `Error: ${e.message}`);
    }
    throw e;
  }
  let fn = mod;
  for (const part of exportPath.split(".")) fn = fn == null ? undefined : fn[part];
  if (fn === undefined && mod && mod.default && typeof mod.default === "object") fn = mod.default[exportPath];
  if (fn === undefined) {
    throw new RuntimeError("Runtime.HandlerNotFound", `${handlerString} is undefined or not exported`);
  }
  if (typeof fn !== "function") {
    throw new RuntimeError("Runtime.HandlerNotFound", `${handlerString} is not a function`);
  }
  return fn;
}

function makeContext(headers, onDone) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"] || 0);
  const parse = (v) => { try { return v ? JSON.parse(v) : undefined; } catch (_) { return undefined; } };
  const ctx = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: parse(headers["lambda-runtime-cognito-identity"]),
    clientContext: parse(headers["lambda-runtime-client-context"]),
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
    // the legacy completion methods
    done: (err, result) => onDone(err, result),
    succeed: (result) => onDone(null, result),
    fail: (err) => onDone(err === undefined || err === null ? "handled" : err),
  };
  return ctx;
}

// awslambda.streamifyResponse: the handler writes to a stream. cloudlet collects what it
// writes and answers once the stream ends (the caller gets the whole body at once).
const STREAMING = Symbol("cloudlet.streaming");
const { Writable } = require("stream");
class ResponseStream extends Writable {
  constructor() { super(); this.chunks = []; this.contentType = undefined; }
  _write(chunk, encoding, callback) { this.chunks.push(Buffer.from(chunk, encoding)); callback(); }
  setContentType(type) { this.contentType = type; }
  body() { return Buffer.concat(this.chunks); }
}
global.awslambda = {
  streamifyResponse(fn) { fn[STREAMING] = true; return fn; },
  HttpResponseStream: {
    // a function URL's streamed response: its status and headers as JSON, 8 NUL bytes, the body
    from(stream, metadata) {
      stream.write(JSON.stringify(metadata || {}));
      stream.write(Buffer.alloc(8));
      return stream;
    },
  },
};

function invokeStreaming(handler, event, headers) {
  return new Promise((resolve) => {
    const stream = new ResponseStream();
    let finished = false;
    const finish = (err) => {
      if (finished) return;
      finished = true;
      resolve([err, stream]);
    };
    stream.on("finish", () => finish(null));
    const context = makeContext(headers, (err) => finish(err));
    try {
      const out = handler(event, stream, context);
      if (out && typeof out.then === "function") {
        out.then(() => { if (!stream.writableEnded) stream.end(); }, (e) => finish(e));
      }
    } catch (e) {
      finish(e);
    }
  });
}

function invokeHandler(handler, event, headers) {
  if (handler[STREAMING]) return invokeStreaming(handler, event, headers);
  return new Promise((resolve) => {
    let finished = false;
    const finish = (err, result) => {
      if (finished) return;
      finished = true;
      resolve([err, result]);
    };
    const context = makeContext(headers, finish);
    try {
      const out = handler(event, context, finish);
      if (out && typeof out.then === "function") {
        out.then((r) => finish(null, r), (e) => finish(e === undefined || e === null ? new Error(String(e)) : e));
      } else if (handler.length < 3) {
        // neither a promise nor a callback handler: AWS answers null once it returns
        finish(null, out);
      }
    } catch (e) {
      finish(e);
    }
  });
}

async function main() {
  runtimeApi();
  patchConsole();
  let handler;
  try {
    handler = await loadHandler(process.env.LAMBDA_TASK_ROOT || process.cwd(), process.env._HANDLER || "");
  } catch (e) {
    const doc = errorDoc(e);
    // as AWS logs it: no request id yet, hence "undefined"
    console.error("Uncaught Exception \t" + JSON.stringify({ errorType: doc.errorType, errorMessage: doc.errorMessage, stack: doc.trace }));
    await postError(`${API}/init/error`, doc);
    process.exit(1);
  }
  for (;;) {
    const next = await request("GET", `${API}/invocation/next`);
    if (next.status !== 200) {
      process.stderr.write(`cloudlet runtime: /next answered ${next.status}\n`);
      process.exit(1);
    }
    const requestId = next.headers["lambda-runtime-aws-request-id"];
    currentRequestId = requestId;
    if (next.headers["lambda-runtime-trace-id"]) process.env._X_AMZN_TRACE_ID = next.headers["lambda-runtime-trace-id"];
    else delete process.env._X_AMZN_TRACE_ID;
    let event;
    try {
      event = next.body.length ? JSON.parse(next.body.toString("utf8")) : null;
    } catch (e) {
      await postError(`${API}/invocation/${requestId}/error`, errorDoc(e));
      continue;
    }
    const [err, result] = await invokeHandler(handler, event, next.headers);
    if (err !== null && err !== undefined) {
      const doc = errorDoc(err);
      console.error("Invoke Error \t" + JSON.stringify({ errorType: doc.errorType, errorMessage: doc.errorMessage, stack: doc.trace }));
      await postError(`${API}/invocation/${requestId}/error`, doc);
      continue;
    }
    if (result instanceof ResponseStream) {
      await request("POST", `${API}/invocation/${requestId}/response`, result.body(),
                    { "Content-Type": result.contentType || "application/octet-stream" });
      continue;
    }
    let body;
    try {
      body = result === undefined ? "null" : JSON.stringify(result);
    } catch (e) {
      const doc = { errorType: "Runtime.MarshalError", errorMessage: `Unable to stringify response body: ${e.message}`, trace: [] };
      await postError(`${API}/invocation/${requestId}/error`, doc);
      continue;
    }
    await request("POST", `${API}/invocation/${requestId}/response`, body === undefined ? "null" : body,
                  { "Content-Type": "application/json" });
  }
}

// a rejection or exception nobody catches fails the invocation in flight, then the runtime
// exits (the sandbox is not reused), as on AWS
let dying = false;
function fatal(label, doc) {
  if (dying) return;
  dying = true;
  console.error(label + " \t" + JSON.stringify({ errorType: doc.errorType, errorMessage: doc.errorMessage, stack: doc.trace }));
  const done = () => process.exit(128);
  if (currentRequestId === undefined) return done();
  postError(`${API}/invocation/${currentRequestId}/error`, doc).then(done, done);
}
process.on("unhandledRejection", (reason) => {
  const inner = errorDoc(reason);
  fatal("Unhandled Promise Rejection", {
    errorType: "Runtime.UnhandledPromiseRejection",
    errorMessage: reason instanceof Error ? `${inner.errorType}: ${inner.errorMessage}` : inner.errorMessage,
    trace: inner.trace,
  });
});
process.on("uncaughtException", (err) => fatal("Uncaught Exception", errorDoc(err)));

// A spare: started ahead of need (node itself and this file loaded), it reads the sandbox it
// is to become from stdin (one JSON job, then EOF). Its stdout is already the sandbox's log.
function awaitAssignment() {
  const chunks = [];
  const buf = Buffer.alloc(65536);
  for (;;) {
    let n;
    try {
      n = fs.readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      if (e.code === "EAGAIN") continue;
      if (e.code === "EOF") break;
      throw e;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (!text) process.exit(0); // the engine stopped before it needed us
  const job = JSON.parse(text);
  for (const name of Object.keys(process.env)) delete process.env[name];
  Object.assign(process.env, job.env);
  process.chdir(job.cwd);
  require("module").Module._initPaths(); // NODE_PATH, as if started with it
  process.argv.splice(2);
}
if (process.argv[2] === "--spare") awaitAssignment();

main().catch((e) => {
  process.stderr.write(`cloudlet runtime: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
