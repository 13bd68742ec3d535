//! The options both attributes take, `#[jsloop::main(virtual_time, worker_threads = 2)]`:
//! parsed into the `Builder` calls they stand for and the entry point
//! (`run` or `block_on`) the runtime is driven with.

use proc_macro2::{Literal, TokenStream};
use quote::quote;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, Meta, Token};

use crate::expand::Kind;

/// The valid options, for the message that rejects any other.
const VALID: &str = "`block_on`, `virtual_time`, `worker_threads = N`, \
                     `strict_microtasks` and `track_tasks`";

/// What the attribute's arguments asked for.
#[derive(Default)]
pub(crate) struct Options {
    /// Drive the body with `block_on` (tokio's semantics) instead of `run`.
    pub(crate) block_on: bool,
    virtual_time: bool,
    strict_microtasks: bool,
    track_tasks: bool,
    /// The count, as an unsuffixed literal with the user's span.
    worker_threads: Option<Literal>,
}

impl Options {
    /// Parses the comma-separated options; every bad one is reported, not
    /// only the first.
    pub(crate) fn parse(kind: Kind, args: TokenStream) -> syn::Result<Options> {
        let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
        let mut options = Options::default();
        let mut errors: Option<syn::Error> = None;
        for meta in metas {
            if let Err(error) = options.set(kind, &meta) {
                match &mut errors {
                    Some(errors) => errors.combine(error),
                    None => errors = Some(error),
                }
            }
        }
        errors.map_or(Ok(options), Err)
    }

    /// Records one option.
    fn set(&mut self, kind: Kind, meta: &Meta) -> syn::Result<()> {
        let path = meta.path();
        let name = path.get_ident().map(ToString::to_string).unwrap_or_default();
        if name == "worker_threads" {
            let threads = worker_threads(meta)?;
            if self.worker_threads.replace(threads).is_some() {
                return Err(given_twice(meta, &name));
            }
            return Ok(());
        }
        let flag = match name.as_str() {
            "block_on" => &mut self.block_on,
            "virtual_time" => &mut self.virtual_time,
            "strict_microtasks" => &mut self.strict_microtasks,
            "track_tasks" => &mut self.track_tasks,
            _ => {
                let name = quote!(#path).to_string().replace(' ', "");
                let message =
                    format!("unknown option `{name}` for `#[{kind}]`; the options are {VALID}");
                return Err(syn::Error::new_spanned(path, message));
            }
        };
        if !matches!(meta, Meta::Path(_)) {
            let message =
                format!("`{name}` is a flag and takes no value: write `#[{kind}({name})]`");
            return Err(syn::Error::new_spanned(meta, message));
        }
        if std::mem::replace(flag, true) {
            return Err(given_twice(meta, &name));
        }
        Ok(())
    }

    /// The `Builder` method calls, each `.name(value)`, in the order
    /// `Builder`'s docs list them.
    pub(crate) fn builder_calls(&self) -> TokenStream {
        let mut calls = TokenStream::new();
        if let Some(threads) = &self.worker_threads {
            calls.extend(quote!(.worker_threads(#threads)));
        }
        if self.virtual_time {
            calls.extend(quote!(.virtual_time(true)));
        }
        if self.strict_microtasks {
            calls.extend(quote!(.strict_microtasks(true)));
        }
        if self.track_tasks {
            calls.extend(quote!(.track_tasks(true)));
        }
        calls
    }
}

/// The value of `worker_threads = N`: a positive integer literal (0 would
/// only fail at run time, in `Builder::build`).
fn worker_threads(meta: &Meta) -> syn::Result<Literal> {
    const EXAMPLE: &str = "such as `worker_threads = 2`";
    let Meta::NameValue(name_value) = meta else {
        let message = format!("`worker_threads` needs a value, {EXAMPLE}");
        return Err(syn::Error::new_spanned(meta, message));
    };
    let value = &name_value.value;
    let threads = match value {
        Expr::Lit(ExprLit { lit: Lit::Int(int), .. }) if matches!(int.suffix(), "" | "usize") => {
            int.base10_parse::<usize>().ok().filter(|&threads| threads > 0).map(|threads| {
                let mut literal = Literal::usize_unsuffixed(threads);
                literal.set_span(int.span());
                literal
            })
        }
        _ => None,
    };
    threads.ok_or_else(|| {
        let message = format!("`worker_threads` must be a positive integer literal, {EXAMPLE}");
        syn::Error::new_spanned(value, message)
    })
}

/// The error for an option repeated.
fn given_twice(meta: &Meta, name: &str) -> syn::Error {
    syn::Error::new_spanned(meta, format!("`{name}` is given twice"))
}
