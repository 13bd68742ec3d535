//! The expansion both attributes share: the `async fn` is checked, then
//! rewritten as a plain `fn` with the same attributes, visibility, name and
//! return type, whose body builds a runtime and drives the original body
//! on it.

use std::fmt;

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::{Attribute, Block, FnArg, ItemFn, PatType, parse_quote};

use crate::options::Options;

/// Which attribute is expanding.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Main,
    Test,
}

impl fmt::Display for Kind {
    /// The attribute's path, as the messages quote it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Main => "jsloop::main",
            Kind::Test => "jsloop::test",
        })
    }
}

/// The attribute's output for `args` (inside its parentheses) on `item`.
pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let mut function = match syn::parse2::<ItemFn>(item) {
        Ok(function) => function,
        Err(error) => {
            let message = format!("`#[{kind}]` goes on an `async fn`: {error}");
            return syn::Error::new(error.span(), message).to_compile_error();
        }
    };
    let (options, error) = match (Options::parse(kind, args), check(kind, &function)) {
        (Ok(options), Ok(())) => return rewrite(kind, function, &options),
        (Ok(options), Err(error)) => (options, error),
        (Err(error), Ok(())) => (Options::default(), error),
        (Err(mut error), Err(more)) => {
            error.combine(more);
            (Options::default(), error)
        }
    };
    // Expand all the same, as near the intended output as the errors let
    // it be: rust-analyzer keeps its completions in the body, and the
    // function as written would bury ours under errors of its own (`main`
    // cannot be `async` or take arguments, a `const fn` cannot build a
    // runtime, a test registered twice).
    function.sig.constness = None;
    function.sig.unsafety = None;
    function.attrs.retain(|attr| !is_test(attr));
    unbind_parameters(&mut function);
    let mut tokens = error.to_compile_error();
    tokens.extend(rewrite(kind, function, &options));
    tokens
}

/// Turns the parameters into locals that never get a value, so the body
/// still type-checks against them while the signature takes none.
fn unbind_parameters(function: &mut ItemFn) {
    let parameters = std::mem::take(&mut function.sig.inputs);
    let locals = parameters.into_iter().filter_map(|parameter| match parameter {
        FnArg::Typed(PatType { pat, ty, .. }) => {
            Some(parse_quote!(let #pat: #ty = ::core::unreachable!();))
        }
        FnArg::Receiver(_) => None,
    });
    function.block.stmts.splice(0..0, locals);
    // What follows those locals is unreachable (so they count as unused),
    // and saying so would only add noise to the error.
    function.attrs.push(parse_quote!(#[allow(unreachable_code, unused_variables)]));
}

/// Refuses the functions the expansion cannot run: every problem at once.
fn check(kind: Kind, function: &ItemFn) -> syn::Result<()> {
    let sig = &function.sig;
    let mut errors = Vec::new();
    if sig.asyncness.is_none() {
        let message = format!(
            "the `async` keyword is missing from the function declaration: `#[{kind}]` runs an \
             `async fn` on a jsloop runtime; write `async fn {}()`",
            sig.ident
        );
        errors.push(syn::Error::new_spanned(sig.fn_token, message));
    }
    if let Some(constness) = sig.constness {
        let message = format!("`#[{kind}]` functions cannot be `const`");
        errors.push(syn::Error::new_spanned(constness, message));
    }
    if let Some(unsafety) = sig.unsafety {
        let message = format!("`#[{kind}]` functions cannot be `unsafe`");
        errors.push(syn::Error::new_spanned(unsafety, message));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        let message = format!("`#[{kind}]` functions cannot be generic");
        let error = match &sig.generics.where_clause {
            Some(where_clause) if sig.generics.params.is_empty() => {
                syn::Error::new_spanned(where_clause, message)
            }
            _ => syn::Error::new_spanned(&sig.generics, message),
        };
        errors.push(error);
    }
    if !sig.inputs.is_empty() {
        let message = format!("`#[{kind}]` functions take no arguments");
        errors.push(syn::Error::new_spanned(&sig.inputs, message));
    }
    if kind == Kind::Test {
        // A second test attribute would register the test twice (`#[test]`)
        // or refuse the function made non-`async` here (another runtime's).
        if let Some(attr) = function.attrs.iter().find(|attr| is_test(attr)) {
            let message = "`#[jsloop::test]` already makes the function a test: remove this one";
            errors.push(syn::Error::new_spanned(attr, message));
        }
    }
    let mut errors = errors.into_iter();
    match errors.next() {
        None => Ok(()),
        Some(mut first) => {
            first.extend(errors);
            Err(first)
        }
    }
}

/// Whether `attr` is a test attribute: `#[test]`, or any `#[path::test]`.
fn is_test(attr: &Attribute) -> bool {
    attr.path().segments.last().is_some_and(|segment| segment.ident == "test")
}

/// The plain `fn`: the body, untouched (its spans are the user's, so errors
/// inside point at user code), becomes the `async move` block the runtime
/// drives.
fn rewrite(kind: Kind, function: ItemFn, options: &Options) -> TokenStream {
    let ItemFn { attrs, vis, mut sig, block } = function;
    sig.asyncness = None;
    // Ours first, so that attributes written after `#[jsloop::test]`
    // (`#[should_panic]`, `#[ignore]`) follow a `#[test]`, as they expect.
    let test = match kind {
        Kind::Main => TokenStream::new(),
        Kind::Test => quote!(#[::core::prelude::v1::test]),
    };
    let builder_calls = options.builder_calls();
    let entry = if options.block_on { quote!(block_on) } else { quote!(run) };
    // A body whose output is not the return type is reported on the call
    // that returns it: spanned from the first to the last token of the
    // body's last statement (as tokio does), the error underlines the
    // user's line that gives the wrong value instead of the attribute.
    let (first, last) = last_statement_span(&block);
    let runtime = Ident::new("runtime", first);
    let drive = quote_spanned!(last=> .#entry(body));
    // `body` is bound first: the user's code, its initializer, sees neither
    // local.
    quote! {
        #test
        #(#attrs)*
        #vis #sig {
            let body = async move #block;
            let runtime = ::jsloop::Runtime::builder()
                #builder_calls
                .build()
                .unwrap_or_else(|error| {
                    ::core::panic!("jsloop: failed to build the runtime: {}", error)
                });
            #runtime #drive
        }
    }
}

/// The spans of the first and last tokens of `block`'s last statement (of
/// its closing brace if it has none).
fn last_statement_span(block: &Block) -> (Span, Span) {
    let end = block.brace_token.span.close();
    let Some(statement) = block.stmts.last() else {
        return (end, end);
    };
    let mut spans = statement.to_token_stream().into_iter().map(|token| token.span());
    let first = spans.next().unwrap_or(end);
    (first, spans.last().unwrap_or(first))
}
