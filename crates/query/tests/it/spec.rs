//! The filter language: every case of spec §15.1 (adapted to typed values), suffix operators,
//! repetition, and casting by schema type.

use query::{Op, Scalar};

use crate::common::{ALICE, ID, JAN_1_2024, c, conds, enc, n, oid, parse_err, parse_ok, s};

// ---- spec §15.1 (queryEngine.test.js) ----

#[test]
fn plain_key_is_equality() {
    assert_eq!(conds("name=John"), vec![c("name", Op::Eq(s("John")))]);
}

#[test]
fn operators_on_one_field_are_separate_conditions_cast_by_type() {
    // Declared Number: typed values (the original kept the strings "18" / "30").
    assert_eq!(conds("age_gt=18&age_lt=30"), vec![c("age", Op::Gt(n(18.0))), c("age", Op::Lt(n(30.0)))]);
    // Undeclared: string semantics, as in the original.
    assert_eq!(conds("years_gt=18&years_lt=30"), vec![c("years", Op::Gt(s("18"))), c("years", Op::Lt(s("30")))]);
    assert_eq!(conds("age_gte=1&age_lte=2"), vec![c("age", Op::Gte(n(1.0))), c("age", Op::Lte(n(2.0)))]);
}

#[test]
fn ne_operator() {
    assert_eq!(conds("status_ne=inactive"), vec![c("status", Op::Ne(s("inactive")))]);
}

#[test]
fn page_and_sort_are_not_filters() {
    let q = parse_ok("page=2&sort=name&limit=5&name=x");
    assert_eq!(q.filter.conditions().len(), 1);
    assert!(
        parse_ok("page=1&sort=a&limit=1&fields=a&populate=a&expand=a&count=true&meta=true&cursor=").filter.is_empty()
    );
}

#[test]
fn in_operator_splits_trims_and_drops_empties() {
    let abc = Op::In(vec![s("active"), s("pending"), s("archived")]);
    assert_eq!(conds("status_in=active,pending,archived"), vec![c("status", abc.clone())]);
    assert_eq!(conds("status_in=active&status_in=pending,archived"), vec![c("status", abc)]);
    assert_eq!(conds("status_in=+a+,,b,%09c%09,"), vec![c("status", Op::In(vec![s("a"), s("b"), s("c")]))]);
    assert_eq!(conds("status_in=,,"), vec![c("status", Op::In(vec![]))]);
    assert_eq!(conds("age_in=1,2.5"), vec![c("age", Op::In(vec![n(1.0), n(2.5)]))]);
    assert_eq!(parse_err("age_in=1,x"), r#"Invalid value for "age_in": expected a Number."#);
}

#[test]
fn exists_operator() {
    assert_eq!(
        conds("email_exists=true&phone_exists=false"),
        vec![c("email", Op::Exists(true)), c("phone", Op::Exists(false))]
    );
    for bad in ["TRUE", "1", "", "yes", "false%20"] {
        assert_eq!(
            parse_err(&format!("email_exists={bad}")),
            r#"Invalid value for "email_exists"; expected "true" or "false"."#
        );
    }
}

#[test]
fn regex_operator_is_case_insensitive() {
    let q = parse_ok("name_regex=John");
    let [cond] = q.filter.conditions() else { panic!() };
    let Op::Regex(p) = &cond.op else { panic!() };
    assert_eq!(p.source(), "John");
    assert!(p.is_match("hello JOHN doe"));
    assert!(!p.is_match("Jon"));
    assert!(q.has_regex());
    assert!(!parse_ok("name=John").has_regex());
}

#[test]
fn invalid_regex_is_refused() {
    let msg = parse_err("name_regex=%5B");
    assert!(msg.contains("Invalid regex pattern"));
    assert_eq!(msg, r#"Invalid regex pattern for "name_regex"."#);
}

#[test]
fn long_regex_is_refused() {
    let msg = parse_err(&format!("name_regex={}", "a".repeat(129)));
    assert!(msg.contains("exceeds"));
    assert_eq!(msg, r#"Regex pattern for "name_regex" exceeds 128 characters."#);
    parse_ok(&format!("name_regex={}", "a".repeat(128)));
    // Counted in UTF-16 code units, as JavaScript's `length`.
    parse_ok(&format!("name_regex={}", enc(&"é".repeat(128))));
    parse_err(&format!("name_regex={}", enc(&"😀".repeat(65))));
}

// ---- more operator rules ----

#[test]
fn repeated_plain_key_becomes_in() {
    assert_eq!(conds("name=a&name=b"), vec![c("name", Op::In(vec![s("a"), s("b")]))]);
    assert_eq!(conds("price=1&price=2"), vec![c("price", Op::In(vec![n(1.0), n(2.0)]))]);
    assert_eq!(parse_err("price=1&price=x"), r#"Invalid value for "price": expected a Number."#);
}

#[test]
fn repeated_operator_is_several_conditions() {
    assert_eq!(
        conds("price_gt=1&price_gt=2&name_ne=a&name_ne=b"),
        vec![
            c("price", Op::Gt(n(1.0))),
            c("price", Op::Gt(n(2.0))),
            c("name", Op::Ne(s("a"))),
            c("name", Op::Ne(s("b"))),
        ]
    );
}

#[test]
fn declared_field_name_wins_over_suffix() {
    assert_eq!(conds("login_in=x"), vec![c("login_in", Op::Eq(s("x")))]);
    assert_eq!(conds("login_in_in=a,b"), vec![c("login_in", Op::In(vec![s("a"), s("b")]))]);
    assert_eq!(conds("status_in=x"), vec![c("status", Op::In(vec![s("x")]))]);
    // Reserved names are only reserved exactly: `page_gt` filters on a field `page`.
    assert_eq!(conds("page_gt=3"), vec![c("page", Op::Gt(s("3")))]);
}

#[test]
fn values_are_literals() {
    let injected = "%7B%22%24ne%22%3Anull%7D"; // {"$ne":null}
    assert_eq!(conds(&format!("owner={injected}")), vec![c("owner", Op::Eq(s(r#"{"$ne":null}"#)))]);
    assert_eq!(
        parse_err(&format!("author={injected}")),
        r#"Invalid value for "author": expected an ObjectId (24 hexadecimal characters)."#
    );
    assert_eq!(conds("name_gt=%24where"), vec![c("name", Op::Gt(s("$where")))]);
}

#[test]
fn regex_on_non_text_fields_is_refused() {
    for (q, ty) in [
        ("price_regex=1", "Number"),
        ("active_regex=t", "Boolean"),
        ("birthday_regex=2", "Date"),
        ("author_regex=a", "Ref"),
        ("_id_regex=a", "Ref"),
        ("scores_regex=1", "Number"),
    ] {
        let param = q.split('=').next().unwrap();
        assert_eq!(
            parse_err(q),
            format!(r#"Invalid query parameter "{param}": "_regex" cannot be used on a {ty} field."#)
        );
    }
    parse_ok("tags_regex=%5Ea&address.city_regex=x&extra_regex=y&undeclared_regex=z");
}

#[test]
fn regex_patterns_outside_the_portable_subset_are_refused() {
    for bad in [
        r"(a)\1",
        "(?=a)",
        "(?!a)",
        "(?<=a)b",
        "[a&&b]",
        "[a--b]",
        "[a~~b]",
        "[a[bc]]",
        r"\<a",
        r"a\>",
        r"\b{start}a",
        "a\0b",
        r"(\pL{100}){100}",
        r"((a{50}){50}){50}",
        "(",
        "*",
    ] {
        assert_eq!(
            parse_err(&format!("name_regex={}", enc(bad))),
            r#"Invalid regex pattern for "name_regex"."#,
            "{bad}"
        );
    }
    for good in [
        "^a.*z$",
        "[[:alpha:]]+",
        "[]a]",
        "[^]a]",
        r"\d{3}-\w+",
        r"\w{50}",
        r"^\p{L}{1,30}$",
        "(a+)+$",
        "a|b|c",
        r"\[x\]",
        "",
    ] {
        parse_ok(&format!("name_regex={}", enc(good)));
    }
}

#[test]
fn perl_classes_read_as_pcre_reads_them() {
    let pattern = |p: &str| {
        let q = parse_ok(&format!("name_regex={}", enc(p)));
        let Op::Regex(r) = &q.filter.conditions()[0].op else { panic!() };
        assert_eq!(r.source(), p);
        r.clone()
    };
    for (p, text, expected) in [
        (r"^\d+$", "123", true),
        (r"^\d+$", "\u{663}", false), // ARABIC-INDIC DIGIT THREE: not a digit for PCRE without UCP
        (r"^\D$", "\u{663}", true),
        (r"^\w+$", "abc_1", true),
        (r"^\w+$", "\u{e9}t\u{e9}", false),
        (r"^\W$", "\u{e9}", true),
        (r"^\W$", "K", false),
        (r"^\W$", "\u{212a}", true), // KELVIN SIGN is no ASCII word character
        (r"^\s$", "\t", true),
        (r"^\s$", "\u{a0}", false),
        (r"^\S$", "\u{a0}", true),
        (r"^[\d.]+$", "1.5", true),
        (r"^[\d]+$", "\u{663}", false),
        (r"^[^\d]$", "\u{663}", true),
        (r"^[a\W]$", "\u{e9}", true),
        (r"^[a\W]$", "b", false),
        (r"^[\s]$", "\u{a0}", false),
        (r"\bt", "\u{e9}t", true), // no word boundary inside "ét" for Unicode, one for ASCII
        (r"\Bt", "\u{e9}t", false),
        (r"\\d", "\\d", true), // an escaped backslash followed by a literal d
        (r"WORD", "word", true),
    ] {
        assert_eq!(pattern(p).is_match(text), expected, "{p} on {text:?}");
    }
}

// ---- casting by schema type (spec §5.2 "Casting examples") ----

#[test]
fn casting_examples() {
    assert_eq!(conds("price_gt=18"), vec![c("price", Op::Gt(n(18.0)))]);
    assert_eq!(conds("active=true"), vec![c("active", Op::Eq(Scalar::Bool(true)))]);
    assert_eq!(conds("active=0"), vec![c("active", Op::Eq(Scalar::Bool(false)))]);
    let upper = ID.to_ascii_uppercase();
    assert_eq!(conds(&format!("author={upper}")), vec![c("author", Op::Eq(oid(ID)))]);
    assert_eq!(conds(&format!("_id={ID}")), vec![c("_id", Op::Eq(oid(ID)))]);
    assert_eq!(conds("birthday_gte=2024-01-01"), vec![c("birthday", Op::Gte(Scalar::Date(JAN_1_2024)))]);
    assert_eq!(
        conds(&format!("createdAt_lt={JAN_1_2024}&updatedAt_gt=2024")),
        vec![c("createdAt", Op::Lt(Scalar::Date(JAN_1_2024))), c("updatedAt", Op::Gt(Scalar::Date(JAN_1_2024)))]
    );
    assert_eq!(conds("__v=0"), vec![c("__v", Op::Eq(n(0.0)))]);
    // Arrays cast by item type; nested paths by their declared type.
    assert_eq!(conds("tags=a"), vec![c("tags", Op::Eq(s("a")))]);
    assert_eq!(conds("scores_gt=5"), vec![c("scores", Op::Gt(n(5.0)))]);
    assert_eq!(conds(&format!("refs={ALICE}")), vec![c("refs", Op::Eq(oid(ALICE)))]);
    assert_eq!(conds("address.zip_lt=75000"), vec![c("address.zip", Op::Lt(n(75000.0)))]);
    assert_eq!(conds("items.qty_gte=2"), vec![c("items.qty", Op::Gte(n(2.0)))]);
    assert_eq!(conds("address.city=Paris"), vec![c("address.city", Op::Eq(s("Paris")))]);
    // String, Mixed, Object and undeclared fields keep the text.
    assert_eq!(conds("name=18"), vec![c("name", Op::Eq(s("18")))]);
    assert_eq!(conds("extra=1"), vec![c("extra", Op::Eq(s("1")))]);
    assert_eq!(conds("address=x"), vec![c("address", Op::Eq(s("x")))]);
    assert_eq!(conds("foo=%20"), vec![c("foo", Op::Eq(s(" ")))]);
    assert_eq!(conds("foo"), vec![c("foo", Op::Eq(s("")))]);
}

#[test]
fn uncastable_values_are_400_with_clear_text() {
    let number = "expected a Number.";
    let boolean = "expected a Boolean (true or false).";
    let date = "expected a Date (ISO 8601 or milliseconds since the epoch).";
    let object_id = "expected an ObjectId (24 hexadecimal characters).";
    for (q, param, expected) in [
        ("price_gt=abc", "price_gt", number),
        ("price=", "price", number),
        ("price=Infinity", "price", number),
        ("price=NaN", "price", number),
        ("price=1e999", "price", number),
        ("price=0x10", "price", number),
        ("scores=x", "scores", number),
        ("items.qty_lt=x", "items.qty_lt", number),
        ("active=maybe", "active", boolean),
        ("active=TRUE", "active", boolean),
        ("birthday=nope", "birthday", date),
        ("birthday=2024-13-01", "birthday", date),
        ("createdAt_gt=yesterday", "createdAt_gt", date),
        ("author=xyz", "author", object_id),
        ("_id=507f1f77bcf86cd79943901", "_id", object_id),
        ("_id_in=507f1f77bcf86cd799439011,nope", "_id_in", object_id),
        ("refs_ne=123456789012", "refs_ne", object_id),
    ] {
        assert_eq!(parse_err(q), format!(r#"Invalid value for "{param}": {expected}"#), "{q}");
    }
}
