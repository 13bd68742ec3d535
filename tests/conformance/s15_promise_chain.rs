//! Port of `15-promise-chain.js`: one promise chain's rules. Each `then`
//! gets the previous value, a rejection skips `then`s up to a `catch`,
//! `finally` sees nothing and passes the outcome through.
//!
//! Port notes: a `then` callback that throws is `and_then` returning
//! `Err`; a `catch` returns the recovered value; values are strings, so
//! the `then` that never runs in chain 3 returns one too.

use jsloop::promise::Promise;

type Text = Promise<String, String>;

fn make_promise(condition: bool) -> Text {
    Promise::new(|resolve, reject| {
        if condition {
            resolve("it worked".to_string());
        } else {
            reject("it broke".to_string());
        }
    })
}

fn chain1() {
    make_promise(true)
        .then(|result| result + "!")
        .then(|result| result + "?")
        .then(|result| out!("{result}"))
        .catch(|err| out!("never: {err}"))
        .finally(|| {
            out!("chain 1 finally");
            chain2();
        });
}

fn chain2() {
    make_promise(false)
        .then(|result| out!("never: {result}"))
        .then(|()| "never".to_string())
        .catch(|err| {
            out!("caught: {err}");
            "recovered".to_string()
        })
        .then(|value| out!("then after catch: {value}"))
        .finally(|| {
            out!("done either way");
            chain3();
        });
}

fn chain3() {
    Promise::<u32, String>::resolve(1)
        .and_then(|v| {
            out!("step {v}");
            Err::<String, _>("boom at step 2".to_string())
        })
        .then(|_| {
            out!("never");
            "never".to_string()
        })
        .finally(|| out!("finally runs on the error path"))
        .catch(|err| {
            out!("caught: {err}");
            "value".to_string()
        })
        .finally(|| {
            let _ignored_return_value = "ignored return value";
        })
        .then(|v| out!("finally passed through: {v}"));
}

pub fn main() {
    jsloop::run(async {
        chain1();
        out!("sync end");
    });
}
