#![allow(clippy::unwrap_used)]

use super::*;

fn slot(type_name: &str, inputs: &[&str]) -> SlotDef {
    SlotDef {
        key: "k".into(),
        name: "s".into(),
        type_name: type_name.into(),
        inputs: inputs.iter().map(|s| s.to_string()).collect(),
    }
}

fn ex(type_name: &str) -> Extractor {
    Extractor::for_slot(&slot(type_name, &[])).unwrap()
}

/// 2024-05-01 (a Wednesday) 12:00 UTC.
const NOW: ExtractContext = ExtractContext {
    now_ms: Some(1_714_564_800_000),
};
const NO_CLOCK: ExtractContext = ExtractContext { now_ms: None };

/// The canonical values found.
fn values(e: &Extractor, text: &str, cx: &ExtractContext) -> Vec<String> {
    e.find_all(text, cx).into_iter().map(|m| m.value).collect()
}

fn reply(e: &Extractor, text: &str, cx: &ExtractContext) -> Option<String> {
    e.parse_reply(text, cx).map(|m| m.value)
}

#[test]
fn type_names_map_case_insensitively() {
    assert_eq!(ex("vf.number").kind(), "number");
    assert_eq!(ex("AMAZON.Ordinal").kind(), "ordinal");
    assert_eq!(ex("amazon.emailaddress").kind(), "email");
    assert_eq!(ex("VF.AMOUNT_OF_MONEY").kind(), "amount of money");
    assert_eq!(ex("VF.DATETIME").kind(), "date and time");
    for t in supported_types().iter().filter(|t| **t != "Custom") {
        assert!(Extractor::for_slot(&slot(t, &[])).is_some(), "{t}");
    }
    // Nothing to extract and no sample values.
    assert!(Extractor::for_slot(&slot("VF.NAME", &[])).is_none());
    assert!(Extractor::for_slot(&slot("Custom", &[" , "])).is_none());
    assert!(Extractor::for_slot(&slot("AMAZON.SearchQuery", &[])).is_none());
    // A built-in type with sample values becomes a list.
    let geo = Extractor::for_slot(&slot(
        "VF.GEOGRAPHY",
        &["Paris", "New York", "New York City"],
    ))
    .unwrap();
    assert_eq!(geo.kind(), "sample-value list");
    assert_eq!(
        values(&geo, "fly from new york city to PARIS", &NOW),
        ["New York City", "Paris"]
    );
    assert_eq!(geo.sample_value().as_deref(), Some("Paris"));
    let custom = Extractor::for_slot(&slot("Custom", &["small, tiny"])).unwrap();
    assert_eq!(custom.kind(), "custom list");
}

#[test]
fn numbers() {
    let n = ex("VF.NUMBER");
    let cx = NO_CLOCK;
    assert_eq!(values(&n, "I want two large pizzas", &cx), ["2"]);
    assert_eq!(values(&n, "twenty five people", &cx), ["25"]);
    assert_eq!(values(&n, "twenty-five", &cx), ["25"]);
    assert_eq!(
        values(&n, "1,200 and 3.5 and -4 and 007", &cx),
        ["1200", "3.5", "-4", "7"]
    );
    assert_eq!(values(&n, "one hundred and five", &cx), ["105"]);
    assert_eq!(values(&n, "three point five", &cx), ["3.5"]);
    // Not numbers: ordinals, parts of words, dates, times, versions.
    assert!(values(
        &n,
        "the third one is abc123 on 2024-05-01 at 17:30 v1.2.3",
        &cx
    )
    .iter()
    .all(|v| v == "1"));
    assert!(values(&n, "no digits here", &cx).is_empty());
    assert!(values(&n, "5-6 people", &cx).is_empty());
    let m = &n.find_all("I want two large pizzas", &cx)[0];
    assert_eq!((m.start, m.end, m.text.as_str()), (7, 10, "two"));
    assert_eq!(reply(&n, "It's 42.", &cx).as_deref(), Some("42"));
    assert_eq!(reply(&n, "about twenty", &cx).as_deref(), Some("20"));
    assert_eq!(reply(&n, "a hundred", &cx).as_deref(), Some("100"));
    assert_eq!(reply(&n, "42 pizzas", &cx), None);
    assert_eq!(reply(&n, "1 or 2", &cx), None);
    assert_eq!(n.sample_value().as_deref(), Some("2"));
}

#[test]
fn ordinals() {
    let o = ex("VF.ORDINAL");
    assert_eq!(values(&o, "the 3rd one", &NO_CLOCK), ["3"]);
    assert_eq!(
        values(&o, "third, then first, 22nd", &NO_CLOCK),
        ["3", "1", "22"]
    );
    assert!(values(&o, "three people", &NO_CLOCK).is_empty());
    assert_eq!(reply(&o, "the second", &NO_CLOCK).as_deref(), Some("2"));
    assert_eq!(reply(&o, "second!", &NO_CLOCK).as_deref(), Some("2"));
}

#[test]
fn ages() {
    let a = ex("VF.AGE");
    assert_eq!(values(&a, "I am 25 years old", &NO_CLOCK), ["25"]);
    assert_eq!(
        a.find_all("I am 25 years old", &NO_CLOCK)[0].text,
        "25 years old"
    );
    assert_eq!(values(&a, "a 7-year-old", &NO_CLOCK), ["7"]);
    assert_eq!(reply(&a, "twenty", &NO_CLOCK).as_deref(), Some("20"));
    assert_eq!(reply(&a, "I'm 25", &NO_CLOCK).as_deref(), Some("25"));
    assert_eq!(reply(&a, "25 years old.", &NO_CLOCK).as_deref(), Some("25"));
    assert!(values(&a, "3.5 or 400", &NO_CLOCK).is_empty());
}

#[test]
fn amounts_of_money() {
    let c = ex("VF.CURRENCY");
    assert_eq!(values(&c, "it costs $20", &NO_CLOCK), ["20 USD"]);
    assert_eq!(values(&c, "20 dollars", &NO_CLOCK), ["20 USD"]);
    assert_eq!(
        values(&c, "€5.50 or 5.50€ or 15 euros", &NO_CLOCK),
        ["5.50 EUR", "5.50 EUR", "15 EUR"]
    );
    assert_eq!(
        values(&c, "twenty bucks, £3, 100 USD", &NO_CLOCK),
        ["20 USD", "3 GBP", "100 USD"]
    );
    assert_eq!(c.find_all("pay $20 now", &NO_CLOCK)[0].text, "$20");
    assert_eq!(
        values(&c, "US$5 or 3 canadian dollars", &NO_CLOCK),
        ["5 USD", "3 CAD"]
    );
    assert!(values(&c, "20 people, 15 eurosceptics", &NO_CLOCK).is_empty());
    assert_eq!(
        reply(&c, "about $1,200.", &NO_CLOCK).as_deref(),
        Some("1200 USD")
    );
}

#[test]
fn percentages_and_four_digits() {
    let p = ex("VF.PERCENTAGE");
    assert_eq!(values(&p, "15% or 20 percent", &NO_CLOCK), ["15", "20"]);
    assert_eq!(values(&p, "twelve per cent", &NO_CLOCK), ["12"]);
    assert!(values(&p, "15 people", &NO_CLOCK).is_empty());
    let f = ex("AMAZON.FOUR_DIGIT_NUMBER");
    assert_eq!(
        values(&f, "pin 0042, not 12345 or 1,234", &NO_CLOCK),
        ["0042"]
    );
    assert_eq!(reply(&f, "1234", &NO_CLOCK).as_deref(), Some("1234"));
}

#[test]
fn emails() {
    let e = ex("VF.EMAIL");
    assert_eq!(
        values(&e, "my email is Jane.Doe@Example.org.", &NO_CLOCK),
        ["jane.doe@example.org"]
    );
    let m = &e.find_all("my email is Jane.Doe@Example.org.", &NO_CLOCK)[0];
    assert_eq!(m.text, "Jane.Doe@Example.org");
    assert_eq!(
        reply(&e, "my email is jane@x.org", &NO_CLOCK).as_deref(),
        Some("jane@x.org")
    );
    assert_eq!(
        reply(&e, "<jane@x.org>", &NO_CLOCK).as_deref(),
        Some("jane@x.org")
    );
    assert!(values(&e, "jane at x dot org, @handle, a@b", &NO_CLOCK).is_empty());
}

#[test]
fn urls() {
    let u = ex("VF.URL");
    assert_eq!(
        values(&u, "see https://x.org/a?b=1.", &NO_CLOCK),
        ["https://x.org/a?b=1"]
    );
    assert_eq!(values(&u, "(example.com)", &NO_CLOCK), ["example.com"]);
    assert!(values(&u, "mail jane@x.org or say hi", &NO_CLOCK).is_empty());
}

#[test]
fn phone_numbers() {
    let p = ex("VF.PHONENUMBER");
    assert_eq!(
        values(&p, "call (415) 555-0123 now", &NO_CLOCK),
        ["+14155550123"]
    );
    assert_eq!(values(&p, "+44 20 7946 0958", &NO_CLOCK), ["+442079460958"]);
    assert_eq!(
        reply(&p, "my number is 415.555.0123", &NO_CLOCK).as_deref(),
        Some("+14155550123")
    );
    assert!(values(&p, "12345 and 2024-05-01 and 1.5", &NO_CLOCK).is_empty());
}

#[test]
fn dates() {
    let d = ex("VF.DATE");
    assert_eq!(values(&d, "on 2024-05-01", &NO_CLOCK), ["2024-05-01"]);
    assert_eq!(
        values(&d, "1/5/2024 or 25/12/24", &NO_CLOCK),
        ["2024-01-05", "2024-12-25"]
    );
    assert_eq!(
        values(&d, "May 1st, 2024 and the 3rd of June 2025", &NO_CLOCK),
        ["2024-05-01", "2025-06-03"]
    );
    assert_eq!(values(&d, "May 1st", &NOW), ["2024-05-01"]);
    assert_eq!(values(&d, "tomorrow", &NOW), ["2024-05-02"]);
    assert_eq!(
        values(&d, "yesterday or the day after tomorrow", &NOW),
        ["2024-04-30", "2024-05-03"]
    );
    assert_eq!(values(&d, "next friday", &NOW).len(), 1);
    assert!(values(&d, "next friday", &NOW)[0].starts_with("2024-05-"));
    assert_eq!(values(&d, "friday", &NOW), ["2024-05-03"]);
    assert_eq!(
        values(&d, "last monday or 12/25", &NOW),
        ["2024-04-29", "2024-12-25"]
    );
    assert_eq!(values(&d, "12/25", &NO_CLOCK), ["12/25"]);
    // No clock: relative dates keep their text.
    assert_eq!(values(&d, "Tomorrow please", &NO_CLOCK), ["Tomorrow"]);
    assert_eq!(values(&d, "next Friday", &NO_CLOCK), ["next Friday"]);
    assert!(values(&d, "2024-13-45, 3.5, may I, 99/99", &NOW).is_empty());
    assert_eq!(reply(&d, "on May 1st", &NOW).as_deref(), Some("2024-05-01"));
    // "may"/"march" as verbs: a lowercase month before a bare day is not a date.
    assert!(values(&d, "I may 5 times", &NOW).is_empty());
    assert_eq!(values(&d, "may 5th, May 5, 5 may", &NOW), ["2024-05-05"; 3]);
    assert_eq!(d.sample_value().as_deref(), Some("tomorrow"));
}

#[test]
fn times() {
    let t = ex("VF.TIME");
    assert_eq!(values(&t, "at 5pm", &NO_CLOCK), ["17:00"]);
    assert_eq!(
        values(&t, "17:30 or 9:05 a.m. or 12am", &NO_CLOCK),
        ["17:30", "09:05", "00:00"]
    );
    assert_eq!(
        values(&t, "noon, half past five, quarter to 6", &NO_CLOCK),
        ["12:00", "05:30", "05:45"]
    );
    assert!(values(&t, "5 people, 13pm, 25:00", &NO_CLOCK).is_empty());
    assert_eq!(
        reply(&t, "at 5 pm please", &NO_CLOCK).as_deref(),
        Some("17:00")
    );
}

#[test]
fn date_times() {
    let dt = ex("VF.DATETIME");
    assert_eq!(values(&dt, "tomorrow at 5pm", &NOW), ["2024-05-02T17:00"]);
    assert_eq!(values(&dt, "5pm on 2024-06-01", &NOW), ["2024-06-01T17:00"]);
    assert_eq!(
        values(&dt, "tomorrow, and later at 5pm", &NOW),
        ["2024-05-02", "17:00"]
    );
    assert_eq!(
        values(&dt, "tomorrow at 5pm", &NO_CLOCK),
        ["tomorrow at 5pm"]
    );
}

#[test]
fn custom_lists() {
    let size = Extractor::for_slot(&slot(
        "Custom",
        &["small, tiny", "large, big, huge", "extra large, XL"],
    ))
    .unwrap();
    assert_eq!(
        values(&size, "I want two LARGE pizzas", &NO_CLOCK),
        ["large"]
    );
    assert_eq!(
        values(&size, "an extra large and a tiny one", &NO_CLOCK),
        ["extra large", "small"]
    );
    assert_eq!(
        reply(&size, "Big, please!", &NO_CLOCK).as_deref(),
        Some("large")
    );
    assert_eq!(reply(&size, "big and small", &NO_CLOCK), None);
    assert_eq!(
        reply(&size, "the extra large", &NO_CLOCK).as_deref(),
        Some("extra large")
    );
    let articles = Extractor::for_slot(&slot("Custom", &["a la carte", "the usual"])).unwrap();
    assert_eq!(
        reply(&articles, "The usual.", &NO_CLOCK).as_deref(),
        Some("the usual")
    );
    assert_eq!(size.sample_value().as_deref(), Some("small"));

    let flavor = Extractor::for_slot(&slot(
        "Custom",
        &["vanilla", "chocolate", "rice", "crème brûlée"],
    ))
    .unwrap();
    assert_eq!(values(&flavor, "vanila please", &NO_CLOCK), ["vanilla"]);
    assert_eq!(values(&flavor, "chocolat", &NO_CLOCK), ["chocolate"]);
    assert_eq!(values(&flavor, "CREME BRULEE", &NO_CLOCK), ["crème brûlée"]);
    // Short words only match exactly; a 4–5 letter word needs the same first letter and one edit.
    assert!(values(&flavor, "ice", &NO_CLOCK).is_empty());
    assert!(values(&flavor, "that's nice", &NO_CLOCK).is_empty());
    assert_eq!(values(&flavor, "ricee", &NO_CLOCK), ["rice"]);
    assert!(values(&flavor, "rize", &NO_CLOCK).is_empty()); // scores 56
    assert!(values(&flavor, "the price", &NO_CLOCK).is_empty());
    assert_eq!(
        reply(&flavor, "vanila", &NO_CLOCK).as_deref(),
        Some("vanilla")
    );
}

#[test]
fn synonym_score_of_equal_strings_is_100() {
    assert_eq!(custom::synonym_score("vanilla", "vanilla"), 100);
}

#[test]
fn bad_input_never_panics_and_offsets_are_char_boundaries() {
    let list = Extractor::for_slot(&slot(
        "Custom",
        &["vanilla, vanille", "chocolate chip", "crème brûlée"],
    ))
    .unwrap();
    let mut all: Vec<Extractor> = supported_types()
        .iter()
        .filter_map(|t| Extractor::for_slot(&slot(t, &[])))
        .collect();
    all.push(list);
    let big = "I want two large pizzas, call (415) 555-0123 or mail jane@x.org on May 1st at 5pm for $20. vanila ".repeat(1100);
    let binary: String = (0u8..=255).cycle().take(5000).map(char::from).collect();
    let texts = [
        String::new(),
        " \t\n ".to_string(),
        "😀🎉👍🏽".repeat(50),
        "١٢٣ ٤٥٦ ໑໒".to_string(),
        binary,
        "0".repeat(10_000),
        "9,".repeat(5_000),
        "é".repeat(3000),
        "$€£%@:/.-".repeat(1000),
        big,
    ];
    for e in &all {
        for text in &texts {
            for cx in [NOW, NO_CLOCK] {
                let started = std::time::Instant::now();
                let found = e.find_all(text, &cx);
                for m in &found {
                    assert!(text.is_char_boundary(m.start) && text.is_char_boundary(m.end));
                    assert_eq!(&text[m.start..m.end], m.text);
                }
                assert!(found.windows(2).all(|w| w[0].end <= w[1].start));
                let _ = e.parse_reply(text, &cx);
                let took = started.elapsed();
                if took.as_millis() > 100 {
                    println!("{} {} bytes: {took:?}", e.kind(), text.len());
                }
                assert!(took.as_secs() < 5, "{} too slow", e.kind());
            }
        }
    }
}
