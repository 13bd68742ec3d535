//! Port of `18-race-reject-first.js`: `race` settles like the first input
//! to settle, fulfilled or rejected; the losers are not cancelled (their
//! timers fire, their side effects print); among inputs already settled,
//! the first in input order wins.
//!
//! Port notes: the inputs are `Promise`s, whose work (a timer) goes on when
//! `race` drops its interest in them, as JS promises do.

use jsloop::promise::{all_settled, race};

use crate::later::{Text, later};

pub fn main() {
    jsloop::run(async {
        // timers are created in increasing delay order; the array order differs
        let fast = later(10, "fast failure", true);
        let mid = later(20, "mid value", false);
        let slow = later(30, "slow value", false);
        match race([&slow, &fast, &mid]).await {
            Ok(v) => out!("never: {v}"),
            Err(err) => out!("race rejected: {err}"),
        }
        all_settled([&slow, &mid]).await;
        out!("losers finished");

        // classic timeout pattern: the work wins, the timeout still fires later
        let work = later(15, "work result", false);
        let timeout = later(40, "timeout", true);
        let winner = race([&timeout, &work]).await.expect("the work wins");
        out!("race fulfilled: {winner}");
        let _ = timeout
            .catch(|err| {
                out!("timeout rejection ignored by race: {err}");
                err
            })
            .await;

        let settled =
            match race([Text::reject("first in input order"), Text::resolve("second")]).await {
                Ok(value) => value.to_string(),
                Err(err) => format!("race rejected: {err}"),
            };
        out!("{settled}");
        let plain = race([later(5, "pending", false), Text::resolve("plain value")]).await;
        out!("race fulfilled: {}", plain.expect("the plain value wins"));
    });
}
