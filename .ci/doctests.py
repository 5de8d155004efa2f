#!/usr/bin/env python3
"""Which public functions and methods of asyncio-future lack an example.

Reads rustdoc's JSON of the library (made by .ci/run with the stable
toolchain: `RUSTC_BOOTSTRAP=1 cargo rustdoc -p asyncio-future --lib -- -Z
unstable-options --output-format json`), walks what the crate root makes reachable (its
modules and re-exports), and checks every public free function, inherent
method of a public type, and method of a public trait of this crate.

An item has an example when its docs hold a runnable doctest (a fenced
block that is Rust and neither `ignore`, `no_run`, `compile_fail` nor
`text`), or link to one: a Markdown link whose text starts with "example"
(`[example](Self::other_method)`, `[Examples](crate::Future#examples)`).

Usage: python3 .ci/doctests.py TARGET/doc/asyncio_future.json [--list]
Prints the counts; exits 1 when an item lacks an example.
"""
import json
import re
import sys

NOT_RUN = {"ignore", "no_run", "compile_fail", "text", "console", "sh", "bash",
           "python", "py", "toml", "json", "promela"}
FENCE = re.compile(r"^\s*```(.*)$", re.M)
EXAMPLE_LINK = re.compile(r"\[`?[Ee]xamples?\b[^\]]*\]\(")


def runnable_doctests(docs):
    """How many fenced blocks of `docs` rustdoc runs as doctests."""
    n = 0
    opening = True
    for m in FENCE.finditer(docs or ""):
        if opening:
            tags = {t.strip() for t in re.split(r"[,\s]+", m.group(1)) if t.strip()}
            if not (tags & NOT_RUN) and (not tags or tags <= {"rust", "should_panic"} or
                                         any(t.startswith("edition") for t in tags)):
                n += 1
        opening = not opening
    return n


def main():
    data = json.load(open(sys.argv[1]))
    if data.get("format_version", 0) < 40:
        sys.exit("doctests.py: rustdoc JSON format %s is too old" % data.get("format_version"))
    index = data["index"]
    item = lambda i: index.get(str(i))

    fns = {}  # id -> display path
    seen = set()

    def visit(i, path):
        it = item(i)
        if it is None or i in seen or it.get("crate_id") != 0:
            return
        seen.add(i)
        inner = it["inner"]
        kind = next(iter(inner))
        name = it["name"]
        if kind == "use":
            target = inner["use"]["id"]
            if target is None:
                return
            if inner["use"]["is_glob"] and item(target) and "module" in item(target)["inner"]:
                # `pub use private_module::*`: its public items appear here.
                seen.add(i)
                for c in item(target)["inner"]["module"]["items"]:
                    visit(c, path)
            else:
                visit(target, path)
            return
        if it["visibility"] != "public":
            return
        here = path + [name] if name else path
        if kind == "module":
            for c in inner["module"]["items"]:
                visit(c, here)
        elif kind == "function":
            fns[i] = "::".join(here)
        elif kind in ("struct", "enum", "union"):
            for imp in inner[kind]["impls"]:
                im = item(imp)["inner"]["impl"]
                if im["trait"] is None and not im["is_synthetic"] and im["blanket_impl"] is None:
                    for m in im["items"]:
                        mi = item(m)
                        if mi and "function" in mi["inner"] and mi["visibility"] == "public":
                            fns[m] = "::".join(here + [mi["name"]])
        elif kind == "trait":
            for m in inner["trait"]["items"]:
                mi = item(m)
                if mi and "function" in mi["inner"]:
                    fns[m] = "::".join(here + [mi["name"]])

    visit(data["root"], [])
    total_tests = sum(runnable_doctests(v.get("docs")) for k, v in index.items()
                      if v.get("crate_id") == 0)
    with_test, linked, missing = [], [], []
    for i, path in sorted(fns.items(), key=lambda kv: kv[1]):
        docs = item(i).get("docs") or ""
        if runnable_doctests(docs):
            with_test.append(path)
        elif EXAMPLE_LINK.search(docs):
            linked.append(path)
        else:
            missing.append(path)
    print("doctests: %d runnable doctests in the crate's docs" % total_tests)
    print("doctests: %d public functions and methods: %d with a doctest, %d linking to one, %d without"
          % (len(fns), len(with_test), len(linked), len(missing)))
    if "--list" in sys.argv or missing:
        for p in missing:
            print("  no example: " + p)
    sys.exit(1 if missing else 0)


if __name__ == "__main__":
    main()
