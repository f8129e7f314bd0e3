// A cmi5 launch, from the LMS's launch to the AU's terminate, against
// Custodia. The AU side is the real @xapi/cmi5 library; the LMS side is
// emulated here with @xapi/xapi, as the cmi5 spec (Quartz) has an LMS do it:
//
//  1. the LMS writes the LMS.LaunchData State document (§10) and the
//     learner's cmi5LearnerPreferences Agent Profile document (§11), and
//     sends the "launched" statement (§9.5.4.2 of the LMS statements);
//  2. it serves the one-time `fetch` URL (§8.2) that hands the AU its
//     credential, here a learner credential of Custodia bound to the
//     learner's agent (so the AU can write only statements about that
//     learner and read only their State and Agent Profile);
//  3. the AU (@xapi/cmi5) gets the token from `fetch`, reads LaunchData
//     and the preferences, sends initialized, passed, completed and
//     terminated;
//  4. the LMS sends "satisfied" for the course and queries the
//     registration's statements in order, which the Go test checks
//     against the cmi5 statement rules (§9).
//
// @xapi/cmi5 is a browser library: it reads the launch parameters from
// window.location and talks HTTP through a bundled axios that uses
// XMLHttpRequest. In Node the launch parameters are passed to its
// constructor (which it supports) and XMLHttpRequest comes from the xhr2
// package; nothing else of the library is changed. It speaks xAPI 1.0.3
// whatever version the LMS uses.
//
// Environment: CUSTODIA_ENDPOINT, CUSTODIA_KEY, CUSTODIA_SECRET (the LMS: a
// client credential with statements/write, statements/read, state and
// profile), AU_KEY, AU_SECRET (the learner credential handed to the AU),
// XAPI_VERSION (the LMS's), LEARNER_ACCOUNT (the learner's account name
// on https://lms.example.com), COURSE_ID.
import http from "node:http";
import { createRequire } from "node:module";
import XAPI from "@xapi/xapi";
import { env, main } from "./common.mjs";

const require = createRequire(import.meta.url);
globalThis.XMLHttpRequest = require("xhr2");
const Cmi5 = require("@xapi/cmi5/dist/Cmi5.umd.js");

const CMI5 = "https://w3id.org/xapi/cmi5";
const ext = (name) => `${CMI5}/context/extensions/${name}`;
const category = (name) => ({ objectType: "Activity", id: `${CMI5}/context/categories/${name}` });
const verb = (id, en) => ({ id, display: { "en-US": en } });

const endpoint = env("CUSTODIA_ENDPOINT");
const lms = new XAPI({ endpoint, auth: XAPI.toBasicAuth(env("CUSTODIA_KEY"), env("CUSTODIA_SECRET")), version: env("XAPI_VERSION") });
const actor = { objectType: "Agent", name: "cmi5 Learner", account: { homePage: "https://lms.example.com", name: env("LEARNER_ACCOUNT") } };
const courseId = env("COURSE_ID");
const auId = `${courseId}/au/1`;
const registration = crypto.randomUUID();
const sessionId = crypto.randomUUID();
const publisherId = `${courseId}/publisher`;

// The LMS's one-time fetch URL (cmi5 §8.2): the first POST answers the
// auth token (the Basic credential, base64), any later one an error.
let fetchCalls = 0;
const fetchServer = http.createServer((req, res) => {
  fetchCalls++;
  res.setHeader("Content-Type", "application/json");
  if (req.method !== "POST" || fetchCalls > 1) {
    res.end(JSON.stringify({ "error-code": "1", "error-text": "fetch URL already used" }));
    return;
  }
  res.end(JSON.stringify({ "auth-token": Buffer.from(`${env("AU_KEY")}:${env("AU_SECRET")}`).toString("base64") }));
});
await new Promise((resolve) => fetchServer.listen(0, "127.0.0.1", resolve));
const fetchURL = `http://127.0.0.1:${fetchServer.address().port}/fetch/${sessionId}`;

await main(async (out) => {
  try {
    // 1. The LMS prepares the launch.
    const contextTemplate = {
      contextActivities: { grouping: [{ objectType: "Activity", id: publisherId }] },
      extensions: { [ext("sessionid")]: sessionId },
    };
    const launchData = {
      contextTemplate,
      launchMode: "Normal",
      launchMethod: "AnyWindow",
      moveOn: "CompletedAndPassed",
      masteryScore: 0.8,
      returnURL: `${courseId}/return`,
    };
    await lms.setState({ agent: actor, activityId: auId, registration, stateId: "LMS.LaunchData", state: launchData });
    await lms.setAgentProfile({ agent: actor, profileId: "cmi5LearnerPreferences", profile: { languagePreference: "de-DE,en-US", audioPreference: "off" }, etag: "*", matchHeader: "If-None-Match" });
    await lms.sendStatement({
      statement: {
        actor, verb: verb("http://adlnet.gov/expapi/verbs/launched", "launched"), object: { objectType: "Activity", id: auId },
        context: {
          ...contextTemplate, registration,
          contextActivities: { ...contextTemplate.contextActivities, category: [category("cmi5")] },
          extensions: { ...contextTemplate.extensions, [ext("launchmode")]: "Normal", [ext("launchurl")]: `${courseId}/au/1/index.html`, [ext("moveon")]: "CompletedAndPassed" },
        },
      },
    });

    // 2–3. The AU, launched with endpoint, fetch, actor, registration and
    // activityId (the query string of the launch URL in a browser).
    const au = new Cmi5({ endpoint, fetch: fetchURL, actor, registration, activityId: auId });
    await au.initialize();
    out.fetchCalls = fetchCalls;
    out.auVersion = au.xapi.headers["X-Experience-API-Version"];
    out.launchData = au.getLaunchData();
    out.learnerPreferences = au.getLearnerPreferences();
    await au.pass(0.9);
    await au.complete();
    await au.terminate();

    // The AU's credential is bound to the learner: it may not write about
    // someone else (the policy refuses it, 403).
    try {
      await au.xapi.sendStatement({ statement: { actor: { objectType: "Agent", mbox: "mailto:someone.else@example.com" }, verb: verb("http://adlnet.gov/expapi/verbs/experienced", "experienced"), object: { objectType: "Activity", id: auId } } });
      out.auOtherLearner = 200;
    } catch (err) {
      out.auOtherLearner = err.response ? err.response.status : String(err);
    }

    // 4. The LMS sees moveOn met (CompletedAndPassed) and satisfies the course.
    await lms.sendStatement({
      statement: {
        actor, verb: verb("https://w3id.org/xapi/adl/verbs/satisfied", "satisfied"),
        object: { objectType: "Activity", id: courseId, definition: { type: "https://w3id.org/xapi/cmi5/activitytype/course" } },
        context: { ...contextTemplate, registration, contextActivities: { ...contextTemplate.contextActivities, category: [category("cmi5")] } },
      },
    });

    // The registration's statements, oldest first, as the LMS reads them.
    const res = await lms.getStatements({ registration, ascending: true, limit: 100 });
    out.statements = res.data.statements.map((s) => ({
      verb: s.verb.id,
      object: s.object.id,
      actorAccount: s.actor.account ? s.actor.account.name : null,
      registration: s.context.registration,
      sessionId: s.context.extensions ? s.context.extensions[ext("sessionid")] : null,
      masteryScore: s.context.extensions ? s.context.extensions[ext("masteryscore")] : undefined,
      categories: ((s.context.contextActivities || {}).category || []).map((a) => a.id),
      grouping: ((s.context.contextActivities || {}).grouping || []).map((a) => a.id),
      result: s.result || null,
      hasTimestamp: Boolean(s.timestamp),
      authority: s.authority && s.authority.account ? s.authority.account.name : null,
    }));
    out.registration = registration;
    out.sessionId = sessionId;
    out.auId = auId;
    out.courseId = courseId;
    out.publisherId = publisherId;
  } finally {
    fetchServer.close();
  }
});
