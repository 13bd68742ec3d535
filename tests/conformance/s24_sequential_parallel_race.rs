//! Port of `24-sequential-parallel-race.js`: sequential awaits keep one
//! operation in flight, `all` starts everything and keeps input order,
//! `race` takes the first while the others go on, `all_settled` plus a
//! filter keeps the successes, and `all` fails with the first failure while
//! the rest still finish.
//!
//! Port notes: each async function call is `Promise::spawn`.

use std::cell::Cell;
use std::time::Duration;

use jsloop::promise::{Promise, all, all_settled, race};
use jsloop::time::sleep;

type Text = Promise<String, String>;

thread_local! {
    static IN_FLIGHT: Cell<u32> = const { Cell::new(0) };
    static MAX_IN_FLIGHT: Cell<u32> = const { Cell::new(0) };
}

fn work(name: String, ms: u64, fail: bool) -> Text {
    Promise::spawn(async move {
        let in_flight = IN_FLIGHT.get() + 1;
        IN_FLIGHT.set(in_flight);
        MAX_IN_FLIGHT.set(MAX_IN_FLIGHT.get().max(in_flight));
        sleep(Duration::from_millis(ms)).await;
        IN_FLIGHT.set(IN_FLIGHT.get() - 1);
        if fail {
            out!("{name} failed");
            return Err(format!("{name} failed"));
        }
        out!("{name} finished");
        Ok(name)
    })
}

fn promise_a() -> Text {
    work("A".into(), 10, false)
}
fn promise_b() -> Text {
    work("B".into(), 20, false)
}
fn promise_c() -> Text {
    work("C".into(), 30, false)
}

async fn parallel() -> Result<Vec<String>, String> {
    all([promise_a(), promise_b(), promise_c()]).await
}

async fn sequential() -> Result<Vec<String>, String> {
    let a = promise_a().await?;
    let b = promise_b().await?;
    let c = promise_c().await?;
    Ok(vec![a, b, c])
}

fn fetch_user(id: u64) -> Text {
    work(format!("user{id}"), 5 * id, id == 3)
}

async fn fetch_sequential(ids: &[u64]) -> Result<Vec<String>, String> {
    let mut users = Vec::new();
    for &id in ids {
        users.push(fetch_user(id).await?);
    }
    Ok(users)
}

async fn fetch_parallel(ids: &[u64]) -> Result<Vec<String>, String> {
    all(ids.iter().map(|&id| fetch_user(id))).await
}

async fn fetch_best_effort(ids: &[u64]) -> Vec<String> {
    let results = all_settled(ids.iter().map(|&id| fetch_user(id))).await;
    results.into_iter().filter_map(Result::ok).collect()
}

pub fn main() {
    jsloop::run(async {
        MAX_IN_FLIGHT.set(0);
        let r = parallel().await.unwrap();
        out!("parallel: {} max in flight {}", r.join(","), MAX_IN_FLIGHT.get());

        MAX_IN_FLIGHT.set(0);
        let r = sequential().await.unwrap();
        out!("sequential: {} max in flight {}", r.join(","), MAX_IN_FLIGHT.get());

        let a = promise_a(); // timers are created in increasing delay order
        let b = promise_b();
        let c = promise_c();
        let contenders = [c, b, a];
        let first = race(&contenders).await.unwrap();
        out!("race winner: {first}");
        all_settled(&contenders).await;
        out!("race losers done");

        out!("fetchSequential: {}", fetch_sequential(&[1, 2]).await.unwrap().join(","));
        out!("fetchBestEffort: {}", fetch_best_effort(&[1, 2, 3, 4, 5]).await.join(","));
        if let Err(err) = fetch_parallel(&[1, 2, 3, 4, 5]).await {
            out!("fetchParallel rejected: {err}");
        }
    });
}
