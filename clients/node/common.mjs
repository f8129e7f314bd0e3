// Helpers shared by the client scripts. Each script reads its settings from
// the environment, prints one JSON object and exits 1 on any failure (with
// an "error" field in the object), so that the Go tests can assert on it.

// env returns the environment variable name, or throws when it is unset.
export const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

// status awaits a request made with @xapi/xapi (axios) and returns the HTTP
// status it answered, success or not; other failures (no answer) throw.
export const status = async (promise) => {
  try {
    return (await promise).status;
  } catch (err) {
    if (err && err.response) return err.response.status;
    throw err;
  }
};

// sleep waits ms milliseconds.
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// describe turns an error into a one-line string, with the HTTP answer when
// there was one (axios errors carry it in err.response).
export const describe = (err) =>
  String(err && err.response ? `${err.response.status} ${JSON.stringify(err.response.data)}` : (err && err.stack) || err);

// main runs fn, which fills out, and prints out as JSON; on a failure it adds
// out.error and exits 1.
export const main = async (fn) => {
  const out = {};
  try {
    await fn(out);
  } catch (err) {
    out.error = describe(err);
    console.log(JSON.stringify(out));
    process.exit(1);
  }
  console.log(JSON.stringify(out));
};
