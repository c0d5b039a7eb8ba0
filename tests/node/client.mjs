// A Node.js client of the Clarifai V2 API, built at run time from this repository's protos with
// @grpc/proto-loader and called over @grpc/grpc-js. Run by tests/protos/test_node_client.py
// against the local emulator; it prints one JSON document of what it got back, which the Python
// test checks against what the Python client sees.
//
//   CLARIFAI_PROTO_PATH=<protos>:<googleapis-common-protos>:<grpc_tools/_proto> \
//   CLARIFAI_KEY=<key> node client.mjs --target 127.0.0.1:PORT --spec spec.json
//
// CLARIFAI_PROTO_PATH: the proto-loader includeDirs, joined with the platform's path delimiter;
// the first one is the repository's protos/ (holding clarifai/api/service.proto). The key is read
// from the environment so that it never shows in a process listing.
//
// spec.json: {"app_id", "inputs": [{"id", "text"|"image_base64", "concepts": [{"id", "value"}],
// "metadata"?, "int_value"? (a decimal string), "float_value"?}], "duplicate_id", "predict_text",
// "embed_inputs": [{"text"|"image_base64"}], "per_page", "missing_id", "timeout_ms"}.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

const { values: args } = parseArgs({
  options: { target: { type: "string" }, spec: { type: "string" } },
});
if (!args.target || !args.spec) throw new Error("usage: client.mjs --target HOST:PORT --spec SPEC.json");
const includeDirs = (process.env.CLARIFAI_PROTO_PATH || "").split(path.delimiter).filter(Boolean);
if (!includeDirs.length) throw new Error("CLARIFAI_PROTO_PATH is not set");
const key = process.env.CLARIFAI_KEY;
if (!key) throw new Error("CLARIFAI_KEY is not set");
const spec = JSON.parse(readFileSync(args.spec, "utf8"));

// keepCase: field names as in the .proto files; longs as decimal strings (no precision loss);
// enums as numbers (the default), bytes as Buffers; defaults filled in, oneofs named.
const packageDefinition = protoLoader.loadSync("clarifai/api/service.proto", {
  includeDirs,
  keepCase: true,
  longs: String,
  defaults: true,
  oneofs: true,
});
const proto = grpc.loadPackageDefinition(packageDefinition);
const V2 = proto.clarifai.api.V2;
const client = new V2(args.target, grpc.credentials.createInsecure());

function call(method, request, withKey = key) {
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Key ${withKey}`);
  const deadline = new Date(Date.now() + (spec.timeout_ms || 10000));
  return new Promise((resolve, reject) => {
    client[method](request, metadata, { deadline }, (err, response) => (err ? reject(err) : resolve(response)));
  });
}

// --- google.protobuf.Struct <-> plain JSON ------------------------------------------------
//
// protobufjs serves google/protobuf/*.proto from its own bundled definitions (src/common.js),
// whose field names are camelCase whatever keepCase says: a Value is {stringValue: ...}, not
// {string_value: ...} (snake_case keys are silently dropped and the Value arrives empty; see
// protobufjs/protobuf.js#1042 and #2119). Our own messages keep the .proto's snake_case.

function toValue(v) {
  if (v === null) return { nullValue: "NULL_VALUE" };
  if (Array.isArray(v)) return { listValue: { values: v.map(toValue) } };
  switch (typeof v) {
    case "number": return { numberValue: v };
    case "string": return { stringValue: v };
    case "boolean": return { boolValue: v };
    case "object": return { structValue: toStruct(v) };
    default: throw new Error(`cannot put ${typeof v} in a Struct`);
  }
}

function toStruct(obj) {
  return { fields: Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, toValue(v)])) };
}

function fromValue(v) {
  switch (v.kind) {
    case "nullValue": return null;
    case "numberValue": return v.numberValue;
    case "stringValue": return v.stringValue;
    case "boolValue": return v.boolValue;
    case "listValue": return v.listValue.values.map(fromValue);
    case "structValue": return fromStruct(v.structValue);
    default: throw new Error(`unknown Value kind ${v.kind}: ${JSON.stringify(v)}`);
  }
}

function fromStruct(s) {
  return s ? Object.fromEntries(Object.entries(s.fields || {}).map(([k, v]) => [k, fromValue(v)])) : null;
}

// --- requests and summaries -------------------------------------------------------------------

function toData(item) {
  const data = {};
  if (item.text !== undefined) data.text = { raw: item.text };
  if (item.image_base64 !== undefined) data.image = { base64: Buffer.from(item.image_base64, "base64") };
  if (item.concepts) data.concepts = item.concepts.map((c) => ({ id: c.id, value: c.value }));
  if (item.metadata) data.metadata = toStruct(item.metadata);
  if (item.int_value !== undefined) data.int_value = item.int_value;
  if (item.float_value !== undefined) data.float_value = item.float_value;
  return data;
}

const userAppId = { app_id: spec.app_id };
const sha256 = (buf) => createHash("sha256").update(buf).digest("hex");

function summarizeInput(inp) {
  const d = inp.data || {};
  const image = d.image && d.image.base64 && d.image.base64.length ? d.image.base64 : null;
  return {
    id: inp.id,
    status_code: inp.status ? inp.status.code : null,
    created_at: inp.created_at ? { seconds: inp.created_at.seconds, nanos: inp.created_at.nanos } : null,
    text: d.text ? d.text.raw : null,
    image_sha256: image ? sha256(image) : null,
    image_bytes: image ? image.length : 0,
    image_info: d.image && d.image.image_info ? { width: d.image.image_info.width, height: d.image.image_info.height } : null,
    concepts: (d.concepts || []).map((c) => [c.id, c.value]),
    metadata: fromStruct(d.metadata),
    int_value: d.int_value,
    float_value: d.float_value,
  };
}

function summarizeOutputs(resp) {
  return {
    status_code: resp.status.code,
    outputs: resp.outputs.map((o) => ({
      status_code: o.status.code,
      model_id: o.model ? o.model.id : null,
      concepts: ((o.data && o.data.concepts) || []).map((c) => [c.id, c.value]),
      embeddings: ((o.data && o.data.embeddings) || []).map((e) => ({ vector: e.vector, num_dimensions: e.num_dimensions })),
    })),
  };
}

// --- the session ------------------------------------------------------------------------------

const here = path.dirname(fileURLToPath(import.meta.url));
const versionOf = (pkg) => JSON.parse(readFileSync(path.join(here, "node_modules", pkg, "package.json"), "utf8")).version;
const out = { node: process.versions.node, versions: { "@grpc/grpc-js": versionOf("@grpc/grpc-js"), "@grpc/proto-loader": versionOf("@grpc/proto-loader") } };
try {
  const posted = await call("PostInputs", { user_app_id: userAppId, inputs: spec.inputs.map((i) => ({ id: i.id, data: toData(i) })) });
  out.post = { status_code: posted.status.code, ids: posted.inputs.map((i) => i.id), input_status_codes: posted.inputs.map((i) => i.status.code) };

  // An enum in a request: the same id again, with input_id_conflict_resolution SUFFIX (by name).
  const dup = spec.inputs.find((i) => i.id === spec.duplicate_id);
  const suffixed = await call("PostInputs", {
    user_app_id: userAppId,
    inputs: [{ id: dup.id, data: toData({ text: dup.text }) }],
    input_id_conflict_resolution: "SUFFIX",
  });
  out.post_suffix = { status_code: suffixed.status.code, ids: suffixed.inputs.map((i) => i.id) };

  const keywords = await call("PostModelOutputs", { user_app_id: userAppId, model_id: "text-keywords", inputs: [{ data: { text: { raw: spec.predict_text } } }] });
  out.predict_keywords = summarizeOutputs(keywords);
  const embedding = await call("PostModelOutputs", { user_app_id: userAppId, model_id: "general-embedding", inputs: spec.embed_inputs.map((i) => ({ data: toData(i) })) });
  out.predict_embedding = summarizeOutputs(embedding);

  // StreamInputs, page after page with last_id, until a page shorter than per_page.
  out.stream = { pages: [], ids: [], status_codes: [], inputs: {} };
  let lastId = "";
  for (;;) {
    const page = await call("StreamInputs", { user_app_id: userAppId, per_page: spec.per_page, last_id: lastId });
    out.stream.pages.push(page.inputs.length);
    out.stream.status_codes.push(page.status.code);
    for (const inp of page.inputs) {
      out.stream.ids.push(inp.id);
      out.stream.inputs[inp.id] = summarizeInput(inp);
      lastId = inp.id;
    }
    if (page.inputs.length < spec.per_page) break;
    if (out.stream.pages.length > 100) throw new Error("StreamInputs did not end");
  }

  const model = await call("GetModel", { user_app_id: userAppId, model_id: "text-keywords" });
  out.model = {
    status_code: model.status.code,
    id: model.model.id,
    source: model.model.source,
    version_status_code: model.model.model_version.status.code,
    created_at_seconds: model.model.created_at.seconds,
  };

  const missing = await call("GetInput", { user_app_id: userAppId, input_id: spec.missing_id });
  out.get_missing = { status_code: missing.status.code, has_input: Boolean(missing.input) };
  const unknownKey = await call("ListInputs", { user_app_id: userAppId, per_page: 1 }, `${key}-unknown`);
  out.unknown_key = { status_code: unknownKey.status.code };
} catch (err) {
  out.error = { message: err.message, code: err.code, details: err.details };
} finally {
  client.close();
}
process.stdout.write(JSON.stringify(out) + "\n");
process.exitCode = out.error ? 1 : 0;
