// The three document resources (State, Activity Profile, Agent Profile) and
// About, driven with the @xapi/xapi library as a course or app would use
// them, with the library's ETag support (etag + matchHeader). The Go test
// cmd/custodia/client_test.go (TestXAPIJSDocuments) runs it under each
// version and checks what it prints: statuses, documents and ETags.
//
// Environment: CUSTODIA_ENDPOINT, CUSTODIA_KEY, CUSTODIA_SECRET (a client
// credential with the state and profile scopes), XAPI_VERSION ("1.0.3" or
// "2.0.0"), LEARNER_MBOX, ACTIVITY_ID.
import XAPI from "@xapi/xapi";
import { env, main, sleep, status } from "./common.mjs";

const xapi = new XAPI({
  endpoint: env("CUSTODIA_ENDPOINT"),
  auth: XAPI.toBasicAuth(env("CUSTODIA_KEY"), env("CUSTODIA_SECRET")),
  version: env("XAPI_VERSION"),
});

const agent = { objectType: "Agent", mbox: env("LEARNER_MBOX") };
const activityId = env("ACTIVITY_ID");
const registration = crypto.randomUUID();
const etagOf = (res) => res.headers.etag;

await main(async (out) => {
  // --- State -------------------------------------------------------------
  const at = { agent, activityId };
  const bookmark = { ...at, stateId: "bookmark" };

  // A PUT to a new document needs no precondition under either version.
  const created = await xapi.setState({ ...bookmark, state: { page: 1, chapter: "intro" } });
  out.stateCreate = created.status;
  out.stateCreateETag = etagOf(created);
  let got = await xapi.getState(bookmark);
  out.stateFirst = got.data;
  out.stateFirstETag = etagOf(got);
  out.stateFirstLastModified = Boolean(got.headers["last-modified"]);

  // POST merges the top-level keys of JSON objects (createState).
  const merged = await xapi.createState({ ...bookmark, state: { page: 2, score: 10 } });
  out.stateMerge = merged.status;
  got = await xapi.getState(bookmark);
  out.stateMerged = got.data;
  const mergedETag = etagOf(got);
  out.stateMergedETagChanged = mergedETag !== out.stateFirstETag;

  // A stale If-Match loses (412); the current one wins.
  out.stateStalePut = await status(xapi.setState({ ...bookmark, state: { page: 99 }, etag: out.stateFirstETag, matchHeader: "If-Match" }));
  out.stateStalePost = await status(xapi.createState({ ...bookmark, state: { page: 98 }, etag: out.stateFirstETag, matchHeader: "If-Match" }));
  out.stateIfNoneMatchExisting = await status(xapi.setState({ ...bookmark, state: { page: 97 }, etag: "*", matchHeader: "If-None-Match" }));
  out.stateMatchedPut = await status(xapi.setState({ ...bookmark, state: { page: 3 }, etag: mergedETag, matchHeader: "If-Match" }));
  got = await xapi.getState(bookmark);
  out.stateAfterMatchedPut = got.data;

  // A PUT with neither header to the existing document: allowed under
  // 1.0.3, 409 under 2.0. What a 2.0 client does then: GET the ETag, PUT
  // with If-Match.
  out.stateBlindPut = await status(xapi.setState({ ...bookmark, state: { page: 4 } }));
  got = await xapi.getState(bookmark);
  out.stateAfterBlindPut = got.data;
  out.stateRetryPut = await status(xapi.setState({ ...bookmark, state: { page: 5 }, etag: etagOf(got), matchHeader: "If-Match" }));
  out.stateAfterRetry = (await xapi.getState(bookmark)).data;

  // A non-JSON document comes back byte for byte with its content type.
  await xapi.setState({ ...at, stateId: "suspend_data", state: "a=1;b=2|ü", contentType: "text/plain; charset=utf-8" });
  got = await xapi.getState({ ...at, stateId: "suspend_data" });
  out.stateText = got.data;
  out.stateTextType = got.headers["content-type"];

  // A registration scopes State: the same stateId under a registration is
  // another document.
  await sleep(30);
  const since = new Date().toISOString();
  await sleep(30);
  await xapi.setState({ ...bookmark, registration, state: { page: 50 } });
  out.stateRegistered = (await xapi.getState({ ...bookmark, registration })).data;
  out.stateUnregistered = (await xapi.getState(bookmark)).data;
  out.stateIds = (await xapi.getStates(at)).data.sort();
  out.stateIdsRegistration = (await xapi.getStates({ ...at, registration })).data;
  out.stateIdsSince = (await xapi.getStates({ ...at, since })).data;

  // Delete one: a stale If-Match is refused, the current one deletes.
  const current = etagOf(await xapi.getState(bookmark));
  out.stateDeleteStale = await status(xapi.deleteState({ ...bookmark, etag: out.stateFirstETag }));
  out.stateDelete = await status(xapi.deleteState({ ...bookmark, etag: current }));
  out.stateGetDeleted = await status(xapi.getState(bookmark));
  // Delete the rest of the registration's set, then all of the activity's.
  out.stateDeleteRegistration = await status(xapi.deleteStates({ ...at, registration }));
  out.stateIdsAfterRegistrationDelete = (await xapi.getStates(at)).data.sort();
  out.stateDeleteAll = await status(xapi.deleteStates(at));
  out.stateIdsAfterDeleteAll = (await xapi.getStates(at)).data;

  // --- Activity Profile --------------------------------------------------
  const ap = { activityId, profileId: "settings" };
  out.apCreate = await status(xapi.setActivityProfile({ ...ap, profile: { theme: "dark" }, etag: "*", matchHeader: "If-None-Match" }));
  out.apCreateAgain = await status(xapi.setActivityProfile({ ...ap, profile: { theme: "light" }, etag: "*", matchHeader: "If-None-Match" }));
  got = await xapi.getActivityProfile(ap);
  const apFirstETag = etagOf(got);
  out.apMerge = await status(xapi.createActivityProfile({ ...ap, profile: { lang: "de" } }));
  got = await xapi.getActivityProfile(ap);
  out.apMerged = got.data;
  out.apStalePut = await status(xapi.setActivityProfile({ ...ap, profile: { theme: "x" }, etag: apFirstETag, matchHeader: "If-Match" }));
  out.apMatchedPut = await status(xapi.setActivityProfile({ ...ap, profile: { theme: "blue" }, etag: etagOf(got), matchHeader: "If-Match" }));
  got = await xapi.getActivityProfile(ap);
  out.apAfterPut = got.data;
  await sleep(30);
  const apSince = new Date().toISOString();
  await sleep(30);
  await xapi.setActivityProfile({ activityId, profileId: "glossary", profile: "term=definition", contentType: "text/plain", etag: "*", matchHeader: "If-None-Match" });
  out.apIds = (await xapi.getActivityProfiles({ activityId })).data.sort();
  out.apIdsSince = (await xapi.getActivityProfiles({ activityId, since: apSince })).data;
  out.apText = (await xapi.getActivityProfile({ activityId, profileId: "glossary" })).data;
  out.apDeleteStale = await status(xapi.deleteActivityProfile({ ...ap, etag: apFirstETag }));
  out.apDelete = await status(xapi.deleteActivityProfile({ ...ap, etag: etagOf(got) }));
  out.apGetDeleted = await status(xapi.getActivityProfile(ap));
  await xapi.deleteActivityProfile({ activityId, profileId: "glossary" });
  out.apIdsAfterDelete = (await xapi.getActivityProfiles({ activityId })).data;

  // --- Agent Profile -----------------------------------------------------
  const pp = { agent, profileId: "preferences" };
  out.agpCreate = await status(xapi.setAgentProfile({ ...pp, profile: { language: "de-DE" }, etag: "*", matchHeader: "If-None-Match" }));
  got = await xapi.getAgentProfile(pp);
  const agpFirstETag = etagOf(got);
  out.agpBlindPost = await status(xapi.createAgentProfile({ ...pp, profile: { audio: "off" } }));
  got = await xapi.getAgentProfile(pp);
  out.agpMerged = got.data;
  out.agpStalePost = await status(xapi.createAgentProfile({ ...pp, profile: { audio: "on" }, etag: agpFirstETag, matchHeader: "If-Match" }));
  out.agpMatchedPost = await status(xapi.createAgentProfile({ ...pp, profile: { captions: true }, etag: etagOf(got), matchHeader: "If-Match" }));
  got = await xapi.getAgentProfile(pp);
  out.agpAfterPost = got.data;
  out.agpIds = (await xapi.getAgentProfiles({ agent })).data;
  out.agpDeleteStale = await status(xapi.deleteAgentProfile({ ...pp, etag: agpFirstETag }));
  out.agpDelete = await status(xapi.deleteAgentProfile({ ...pp, etag: etagOf(got) }));
  out.agpIdsAfterDelete = (await xapi.getAgentProfiles({ agent })).data;

  // --- About -------------------------------------------------------------
  const about = await xapi.getAbout();
  out.aboutVersions = about.data.version;
  out.aboutHeader = about.headers["x-experience-api-version"];
});
