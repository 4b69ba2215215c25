//! Language identification (whatlang trigram model), reported as ISO 639-1 codes because
//! that is what users filter on ("en", "de").

/// whatlang's ISO 639-3 codes and the matching ISO 639-1 codes (ISO 639 tables; Mandarin
/// maps to "zh", Persian "pes" to "fa", Bokmål "nob" to "nb").
const CODES: &[(&str, &str)] = &[
    ("epo", "eo"),
    ("eng", "en"),
    ("rus", "ru"),
    ("cmn", "zh"),
    ("spa", "es"),
    ("por", "pt"),
    ("ita", "it"),
    ("ben", "bn"),
    ("fra", "fr"),
    ("deu", "de"),
    ("ukr", "uk"),
    ("kat", "ka"),
    ("ara", "ar"),
    ("hin", "hi"),
    ("jpn", "ja"),
    ("heb", "he"),
    ("yid", "yi"),
    ("pol", "pl"),
    ("amh", "am"),
    ("jav", "jv"),
    ("kor", "ko"),
    ("nob", "nb"),
    ("dan", "da"),
    ("swe", "sv"),
    ("fin", "fi"),
    ("tur", "tr"),
    ("nld", "nl"),
    ("hun", "hu"),
    ("ces", "cs"),
    ("ell", "el"),
    ("bul", "bg"),
    ("bel", "be"),
    ("mar", "mr"),
    ("kan", "kn"),
    ("ron", "ro"),
    ("slv", "sl"),
    ("hrv", "hr"),
    ("srp", "sr"),
    ("mkd", "mk"),
    ("lit", "lt"),
    ("lav", "lv"),
    ("est", "et"),
    ("tam", "ta"),
    ("vie", "vi"),
    ("urd", "ur"),
    ("tha", "th"),
    ("guj", "gu"),
    ("uzb", "uz"),
    ("pan", "pa"),
    ("aze", "az"),
    ("ind", "id"),
    ("tel", "te"),
    ("pes", "fa"),
    ("mal", "ml"),
    ("ori", "or"),
    ("mya", "my"),
    ("nep", "ne"),
    ("sin", "si"),
    ("khm", "km"),
    ("tuk", "tk"),
    ("aka", "ak"),
    ("zul", "zu"),
    ("sna", "sn"),
    ("afr", "af"),
    ("lat", "la"),
    ("slk", "sk"),
    ("cat", "ca"),
    ("tgl", "tl"),
    ("hye", "hy"),
    ("cym", "cy"),
];

/// The canonical form of an ISO 639-1 code if whatlang can produce it.
pub fn is_known_code(code: &str) -> Option<&'static str> {
    let c = code.trim().to_ascii_lowercase();
    CODES.iter().find(|(_, two)| *two == c).map(|(_, two)| *two)
}

/// A language guess.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LangGuess {
    /// ISO 639-1 code.
    pub code: &'static str,
    /// whatlang's confidence in [0, 1].
    pub confidence: f64,
}

/// Guess the language from the first `sample_chars` chars of `text`.
pub fn detect(text: &str, sample_chars: usize) -> Option<LangGuess> {
    let end = text
        .char_indices()
        .nth(sample_chars)
        .map(|(i, _)| i)
        .unwrap_or(text.len());
    let info = whatlang::detect(&text[..end])?;
    let three = info.lang().code();
    let code = CODES.iter().find(|(t, _)| *t == three).map(|(_, c)| *c)?;
    Some(LangGuess {
        code,
        confidence: info.confidence(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_and_german() {
        let en = detect(
            "The central bank raised interest rates on Tuesday, citing persistent inflation and a strong labour market.",
            2000,
        )
        .unwrap();
        assert_eq!(en.code, "en");
        let de = detect(
            "Die Bundesregierung hat am Dienstag einen neuen Haushaltsentwurf vorgelegt, der höhere Ausgaben für Bildung vorsieht.",
            2000,
        )
        .unwrap();
        assert_eq!(de.code, "de");
    }

    #[test]
    fn codes_are_validated() {
        assert_eq!(is_known_code("EN"), Some("en"));
        assert_eq!(is_known_code("xx"), None);
    }
}
