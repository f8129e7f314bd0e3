// TinCanJS (Rustici's tincanjs, its Node build) driving Custodia through
// its LRS calls: statements (one, a batch, with an attachment), fetch by
// id, query with paging, voiding, State, Activity Profile, Agent Profile
// and About. The Go test cmd/custodia/client_test.go (TestTinCanJSClient)
// runs it and checks what it prints.
//
// TinCanJS speaks xAPI up to 1.0.2 (TinCan.versions()); Custodia answers
// any 1.0.x under the 1.0.3 rules. Its Node build sends requests with the
// xhr2 package, callback style; each call is wrapped in a promise here.
//
// Environment: CUSTODIA_ENDPOINT, CUSTODIA_KEY, CUSTODIA_SECRET (a client
// credential with statements/write, statements/read, state and profile),
// XAPI_VERSION (a 1.0.x version TinCanJS knows), LEARNER_MBOX, ACTIVITY_ID.
import TinCan from "tincanjs";
import { env, main } from "./common.mjs";

const lrs = new TinCan.LRS({
  endpoint: env("CUSTODIA_ENDPOINT"),
  username: env("CUSTODIA_KEY"),
  password: env("CUSTODIA_SECRET"),
  version: env("XAPI_VERSION"),
  allowFail: false,
});

// call runs the TinCanJS LRS method with its positional args and its
// configuration object cfg (to which it adds the callback), and resolves
// with the callback's result; an HTTP failure (TinCanJS passes the status
// as err) rejects with an error carrying the status.
const call = (method, args = [], cfg = {}) =>
  new Promise((resolve, reject) => {
    lrs[method](...args, {
      ...cfg,
      callback: (err, result) => {
        if (err !== null) {
          const body = result && typeof result.responseText === "string" ? result.responseText : "";
          reject(Object.assign(new Error(`${method}: ${err} ${body}`), { status: err }));
          return;
        }
        resolve(result);
      },
    });
  });

// statusOf runs a call that is expected to fail and returns the HTTP status
// it failed with (0 when it succeeded).
const statusOf = async (method, args, cfg) => {
  try {
    await call(method, args, cfg);
    return 0;
  } catch (err) {
    if (typeof err.status !== "number") throw err;
    return err.status;
  }
};

const agent = new TinCan.Agent({ name: "TinCan Learner", mbox: env("LEARNER_MBOX") });
const activityId = env("ACTIVITY_ID");
const activity = new TinCan.Activity({ id: activityId, definition: { name: { "en-US": "TinCan course" }, type: "http://adlnet.gov/expapi/activities/course" } });
const registration = TinCan.Utils.getUUID();
const statement = (verb, object, extra = {}) =>
  new TinCan.Statement({
    actor: agent,
    verb: { id: `http://adlnet.gov/expapi/verbs/${verb}`, display: { "en-US": verb } },
    target: object,
    context: { registration, contextActivities: { grouping: [{ id: activityId }] } },
    ...extra,
  });

await main(async (out) => {
  out.version = lrs.version;

  // saveStatement: TinCanJS stamps an id and PUTs it (statementId).
  const attempted = statement("attempted", activity);
  await call("saveStatement", [attempted]);
  out.attempted = attempted.id;

  // saveStatements: a batch POST, answered with the ids.
  const batch = [1, 2, 3, 4].map((n) =>
    statement("experienced", new TinCan.Activity({ id: `${activityId}/page/${n}` }), { result: { duration: `PT${n}S` } }),
  );
  const saved = await call("saveStatements", [batch]);
  out.batchSent = batch.map((s) => s.id);
  out.batchStored = JSON.parse(saved.responseText);

  // An attachment with content goes as multipart/mixed with its SHA-256.
  const withAttachment = statement("completed", activity, {
    result: { completion: true, success: true, score: { scaled: 0.8 } },
    attachments: [{ usageType: "http://id.tincanapi.com/attachment/certificate", display: { "en-US": "certificate" }, contentType: "text/plain", content: "Certificate of completion" }],
  });
  await call("saveStatement", [withAttachment]);
  out.completed = withAttachment.id;

  // retrieveStatement: the statement back as a TinCan.Statement.
  const back = await call("retrieveStatement", [out.completed]);
  out.completedScore = back.result.score.scaled;
  out.completedAttachmentSha2 = back.attachments[0].sha2;
  out.completedAttachmentLength = back.attachments[0].length;
  out.completedStored = Boolean(back.stored);
  out.completedAuthority = back.authority ? back.authority.objectType : null;
  // ... and with its attachment data (multipart/mixed answer).
  const full = await call("retrieveStatement", [out.completed], { params: { attachments: true } });
  out.completedAttachmentContent = full.attachments[0].content ? TinCan.Utils.stringFromArrayBuffer(full.attachments[0].content) : null;

  // queryStatements + moreStatements: this registration, two per page.
  let page = await call("queryStatements", [], { params: { registration, limit: 2, ascending: true } });
  const ids = page.statements.map((s) => s.id);
  out.pages = 1;
  while (page.more) {
    page = await call("moreStatements", [], { url: page.more });
    ids.push(...page.statements.map((s) => s.id));
    out.pages++;
  }
  out.registrationIds = ids;
  const byVerb = await call("queryStatements", [], { params: { agent, verb: new TinCan.Verb({ id: "http://adlnet.gov/expapi/verbs/experienced" }), activity: new TinCan.Activity({ id: `${activityId}/page/2` }) } });
  out.experiencedPage2 = byVerb.statements.map((s) => s.id);

  // Voiding (TinCanJS has no voiding call: a voided statement is an
  // ordinary one), then retrieveVoidedStatement.
  const voiding = new TinCan.Statement({
    actor: agent,
    verb: { id: "http://adlnet.gov/expapi/verbs/voided", display: { "en-US": "voided" } },
    target: new TinCan.StatementRef({ id: out.batchSent[0] }),
  });
  await call("saveStatement", [voiding]);
  out.voiding = voiding.id;
  out.retrieveVoidedAsStatement = await statusOf("retrieveStatement", [out.batchSent[0]]);
  const voided = await call("retrieveVoidedStatement", [out.batchSent[0]]);
  out.voidedBack = voided.id;

  // State: save, read with its ETag, replace with If-Match (lastSHA1),
  // a stale ETag refused, JSON merge by POST, delete one, delete all.
  const stateCfg = { agent, activity, registration };
  await call("saveState", ["bookmark", { page: 1 }], { ...stateCfg, contentType: "application/json" });
  let st = await call("retrieveState", ["bookmark"], stateCfg);
  out.stateFirst = st.contents;
  const firstETag = st.etag;
  await call("saveState", ["bookmark", { page: 2 }], { ...stateCfg, contentType: "application/json", lastSHA1: firstETag });
  out.stateStale = await statusOf("saveState", ["bookmark", { page: 3 }], { ...stateCfg, contentType: "application/json", lastSHA1: firstETag });
  await call("saveState", ["bookmark", { visited: [1, 2] }], { ...stateCfg, contentType: "application/json", method: "POST" });
  st = await call("retrieveState", ["bookmark"], stateCfg);
  out.stateMerged = st.contents;
  await call("saveState", ["suspend_data", "raw;bytes"], { ...stateCfg, contentType: "text/plain" });
  out.stateText = (await call("retrieveState", ["suspend_data"], stateCfg)).contents;
  out.stateIds = (await call("retrieveStateIds", [], stateCfg)).sort();
  await call("dropState", ["bookmark"], stateCfg);
  out.stateAfterDrop = await call("retrieveState", ["bookmark"], stateCfg);
  await call("dropState", [null], stateCfg);
  out.stateIdsAfterDropAll = await call("retrieveStateIds", [], stateCfg);

  // Activity Profile: TinCanJS sends If-None-Match: * without lastSHA1 and
  // If-Match with it, as 1.0.3 requires for profiles.
  await call("saveActivityProfile", ["settings", { theme: "dark" }], { activity, contentType: "application/json" });
  let prof = await call("retrieveActivityProfile", ["settings"], { activity });
  out.apFirst = prof.contents;
  out.apCreateAgain = await statusOf("saveActivityProfile", ["settings", { theme: "x" }], { activity, contentType: "application/json" });
  await call("saveActivityProfile", ["settings", { theme: "light" }], { activity, contentType: "application/json", lastSHA1: prof.etag });
  out.apStale = await statusOf("saveActivityProfile", ["settings", { theme: "y" }], { activity, contentType: "application/json", lastSHA1: prof.etag });
  prof = await call("retrieveActivityProfile", ["settings"], { activity });
  out.apSecond = prof.contents;
  out.apIds = await call("retrieveActivityProfileIds", [], { activity });
  await call("dropActivityProfile", ["settings"], { activity });
  out.apAfterDrop = await call("retrieveActivityProfile", ["settings"], { activity });

  // Agent Profile.
  await call("saveAgentProfile", ["preferences", { language: "fr-FR" }], { agent, contentType: "application/json" });
  prof = await call("retrieveAgentProfile", ["preferences"], { agent });
  out.agpFirst = prof.contents;
  await call("saveAgentProfile", ["preferences", { language: "de-DE" }], { agent, contentType: "application/json", lastSHA1: prof.etag });
  prof = await call("retrieveAgentProfile", ["preferences"], { agent });
  out.agpSecond = prof.contents;
  out.agpIds = await call("retrieveAgentProfileIds", [], { agent });
  await call("dropAgentProfile", ["preferences"], { agent });
  out.agpAfterDrop = await call("retrieveAgentProfile", ["preferences"], { agent });

  // About.
  const about = await call("about");
  out.aboutVersions = about.version;
});
