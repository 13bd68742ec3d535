//! Port of `01-sync-call-stack.js`: synchronous code runs to completion, in
//! call order, before anything queued runs; a blocking loop delays the next
//! statement but nothing interrupts it.

use crate::log::busy_wait;

fn two() {
    out!("4");
}
fn one() {
    two();
}

fn secondfunc() {
    out!("in 2nd");
}
fn firstfunc() {
    out!("in 1st");
    secondfunc();
    out!("end");
}

fn third() {
    out!("third");
}
fn second() {
    third();
    out!("second");
}
fn first() {
    second();
    out!("first");
}

pub fn main() {
    jsloop::run(async {
        out!("1");
        out!("2");
        out!("3");

        one();

        firstfunc();

        first();

        busy_wait(30);
        out!("Done");
    });
}
