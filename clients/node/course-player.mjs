// A course player, as a real xAPI client would behave, driving Custodia with
// the @xapi/xapi library. The Go test cmd/custodia/client_test.go runs it
// against a live server and checks what it prints.
//
// Environment: CUSTODIA_ENDPOINT (e.g. http://127.0.0.1:8080/xapi/),
// CUSTODIA_KEY, CUSTODIA_SECRET (a client credential), XAPI_VERSION
// ("1.0.3" or "2.0.0"), LEARNER_MBOX. Prints one JSON object; exits 1 on
// any failure.
import XAPI from "@xapi/xapi";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

const xapi = new XAPI({
  endpoint: env("CUSTODIA_ENDPOINT"),
  auth: XAPI.toBasicAuth(env("CUSTODIA_KEY"), env("CUSTODIA_SECRET")),
  version: env("XAPI_VERSION"),
});

const actor = { objectType: "Agent", name: "Course Player Learner", mbox: env("LEARNER_MBOX") };
const course = { objectType: "Activity", id: "http://courses.example.com/safety-101", definition: { name: { "en-US": "Safety 101" } } };
const registration = crypto.randomUUID();
const context = { registration, contextActivities: { parent: [course] } };
const question = (n) => ({ objectType: "Activity", id: `${course.id}/q${n}`, definition: { type: "http://adlnet.gov/expapi/activities/cmi.interaction", interactionType: "true-false", correctResponsesPattern: ["true"] } });

const out = {};
try {
  const launched = await xapi.sendStatement({ statement: { actor, verb: XAPI.Verbs.INITIALIZED, object: course, context } });
  out.initialized = launched.data[0];

  const answers = await xapi.sendStatements({
    statements: [1, 2, 3].map((n) => ({
      actor, verb: XAPI.Verbs.ANSWERED, object: question(n), context,
      result: { success: n !== 2, response: "true", duration: "PT1.5S" },
    })),
  });
  out.answered = answers.data;

  const completed = await xapi.sendStatement({
    statement: { actor, verb: XAPI.Verbs.COMPLETED, object: course, context, result: { completion: true, score: { scaled: 0.67, raw: 2, min: 0, max: 3 } } },
  });
  out.completed = completed.data[0];

  const one = await xapi.getStatement({ statementId: out.completed });
  out.completedScore = one.data.result.score.scaled;
  out.completedHasAuthority = Boolean(one.data.authority);

  // Page through this registration's statements two at a time.
  let page = await xapi.getStatements({ registration, limit: 2 });
  const seen = page.data.statements.map((s) => s.id);
  out.pages = 1;
  while (page.data.more) {
    page = await xapi.getMoreStatements({ more: page.data.more });
    seen.push(...page.data.statements.map((s) => s.id));
    out.pages++;
  }
  out.registrationIds = seen;

  const byVerb = await xapi.getStatements({ agent: actor, verb: XAPI.Verbs.ANSWERED.id });
  out.answeredByAgent = byVerb.data.statements.length;

  const voided = await xapi.voidStatement({ actor, statementId: out.answered[1] });
  out.voiding = voided.data[0];
  const back = await xapi.getVoidedStatement({ voidedStatementId: out.answered[1] });
  out.voidedBackId = back.data.id;
  const after = await xapi.getStatements({ agent: actor, verb: XAPI.Verbs.ANSWERED.id });
  // The voided statement is gone; the voiding statement refers to it, so by
  // the StatementRef rule it matches the same filter (xAPI Data §2.5.1).
  out.answeredAfterVoid = after.data.statements.filter((s) => s.verb.id === XAPI.Verbs.ANSWERED.id).length;
  out.voidingMatches = after.data.statements.some((s) => s.id === out.voiding);

  const about = await xapi.getAbout();
  out.aboutVersions = about.data.version;
} catch (err) {
  out.error = String(err && err.response ? `${err.response.status} ${JSON.stringify(err.response.data)}` : err);
  console.log(JSON.stringify(out));
  process.exit(1);
}
console.log(JSON.stringify(out));
