//! The engineers' panels in the page's language (issue 18): the time bar, the layers, the KPI
//! details, the inspector, the planner and the control room. Their English text is the key and
//! [`DE`] below gives the German of every key, so that a translation is one more table of the
//! same keys (the residents' panel and the tour have their own, whole-sentence tables in
//! [`super::plain`] and [`super::tour`]; the page's own words are in `web/index.html`).
//!
//! - [`tr`] translates a fixed string: `tr(lang, "Layers")`.
//! - [`tf`] translates a template and fills it: `tf(lang, "{:.1} MWh heat", &[&x])`. A template's
//!   placeholders are `{}`, `{:.N}`, `{:+.N}` and `{:0W}`, filled in order; in German a number
//!   formatted with a precision gets a decimal comma (`12,3 MWh`). English output is exactly
//!   what `format!` with the same template gives.
//!
//! A key without a German entry shows in English; the test `every_panel_string_has_german` reads
//! the view's sources for `tr(lang, "…")` and `tf(lang, "…"` and fails on any key missing here
//! (templates made only of numbers and units need none), or whose German has other placeholders.
//!
//! The banner of a proposal link opened in the page ([`proposal_opened`], [`proposal_failed`])
//! is here too, one arm per language.
//!
//! What stays English: what the simulation writes, which knows nothing of the page's language —
//! the scene checker's and the importer's diagnostics (the same text as `qtwin check` prints),
//! the what-if edits' descriptions, alarm messages and instrument tags — object IDs and the
//! scene's own names, and the fault and scenario texts that come from the scenario files.

use std::collections::HashMap;
use std::fmt::{Display, Write};
use std::sync::OnceLock;

use super::plain::Lang;

/// A string in `lang`: a literal, or a name made at run time (an enum's `Debug` name); itself
/// where the table has no entry.
pub fn tr(lang: Lang, en: &str) -> &str {
    match lang {
        Lang::En => en,
        Lang::De => de_table().get(en).copied().unwrap_or(en),
    }
}

/// Whether `en` has a German entry (for tests of names that are not literals at the call site).
pub fn has_de(en: &str) -> bool {
    de_table().contains_key(en)
}

/// A template in `lang`, filled with `args` in order (see the module's doc for the placeholders).
/// A placeholder without an argument stays empty; extra arguments are ignored.
pub fn tf(lang: Lang, en: &'static str, args: &[&dyn Display]) -> String {
    fill(tr(lang, en), args, lang)
}

fn fill(template: &str, args: &[&dyn Display], lang: Lang) -> String {
    let mut out = String::with_capacity(template.len() + 16 * args.len());
    let mut next = args.iter();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let spec = &after[..close];
        rest = &after[close + 1..];
        let Some(arg) = next.next() else { continue };
        let spec = spec.strip_prefix(':').unwrap_or(spec);
        let plus = spec.starts_with('+');
        let spec = spec.trim_start_matches('+');
        let start = out.len();
        if let Some(p) = spec.strip_prefix('.') {
            let p: usize = p.parse().unwrap_or(0);
            let _ = if plus {
                write!(out, "{:+.*}", p, arg)
            } else {
                write!(out, "{:.*}", p, arg)
            };
            if lang == Lang::De {
                let s = out.split_off(start);
                out.push_str(&s.replace('.', ","));
            }
        } else if let Some(w) = spec.strip_prefix('0') {
            let w: usize = w.parse().unwrap_or(0);
            let _ = write!(out, "{:0w$}", arg);
        } else if plus {
            let _ = write!(out, "{:+}", arg);
        } else {
            let _ = write!(out, "{}", arg);
        }
    }
    out.push_str(rest);
    out
}

/// The banner of a proposal link opened in the page: what it did.
pub fn proposal_opened(lang: Lang, edits: usize) -> String {
    match lang {
        Lang::En => format!(
            "A proposal: {edits} edit{} applied to this city (the “What if” panel lists them). Its \
             comparison with the city as it is runs now; the map then shows where the supply got \
             warmer (red) or colder (blue).",
            if edits == 1 { "" } else { "s" }
        ),
        Lang::De => format!(
            "Ein Vorschlag: {edits} Änderung{} an dieser Stadt (das Fenster „Was wäre, wenn“ listet \
             sie). Der Vergleich mit der Stadt, wie sie ist, läuft jetzt; danach zeigt die Karte, wo \
             der Vorlauf wärmer (rot) oder kälter (blau) wurde.",
            if edits == 1 { "" } else { "en" }
        ),
    }
}

/// The banner of a proposal link that cannot be applied: why, and that the city is unchanged.
/// The German keeps the inner details (a decoder's or an edit's own message) in English.
pub fn proposal_failed(lang: Lang, e: &crate::whatif::proposal::ProposalError) -> String {
    use crate::whatif::proposal::{PROPOSAL_VERSION, ProposalError as E};
    match lang {
        Lang::En => format!("{e}. The city opens unchanged."),
        Lang::De => {
            let why = match e {
                E::TooLong { chars, limit } => format!(
                    "Der Vorschlagslink ist zu lang: sein Code hat {chars} Zeichen, mehr als die \
                     Grenze von {limit}"
                ),
                E::Damaged(d) => {
                    format!(
                        "Der Vorschlagslink ist beschädigt ({d}); bitte den ganzen Link neu kopieren"
                    )
                }
                E::NewerVersion { found } => format!(
                    "Der Vorschlagslink stammt von einem neueren qtwin (Linkformat {found}; dieses \
                     liest Format {PROPOSAL_VERSION}): zum Öffnen qtwin aktualisieren"
                ),
                E::UnknownVersion { found } => format!(
                    "Der Vorschlagslink hat ein unbekanntes Format {found} (dieses qtwin liest \
                     Format {PROPOSAL_VERSION})"
                ),
                E::OtherScene { link, scene } => format!(
                    "Der Vorschlagslink wurde für eine andere Szene gemacht (Szene des Links {link}, \
                     diese Szene {scene}): mit der Szene öffnen, für die er gemacht wurde"
                ),
                E::TooManyEdits { count, limit } => format!(
                    "Der Vorschlag enthält {count} Änderungen, mehr als die Grenze von {limit}"
                ),
                E::Edit {
                    index,
                    path,
                    value,
                    msg,
                } => format!(
                    "Änderung {index} des Vorschlags ({path}={value}) passt nicht zu dieser Szene: {msg}"
                ),
                E::Invalid(m) => {
                    format!("Die Änderungen des Vorschlags ergeben keine gültige Szene: {m}")
                }
                other => other.to_string(),
            };
            format!("{why}. Die Stadt öffnet unverändert.")
        }
    }
}

fn de_table() -> &'static HashMap<&'static str, &'static str> {
    static T: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    T.get_or_init(|| DE.iter().copied().collect())
}

/// English → German, every string of the engineers' panels.
pub const DE: &[(&str, &str)] = &[
    // The time bar.
    ("day {} {:02}:{:02}", "Tag {} {:02}:{:02}"),
    ("▶ play", "▶ Start"),
    ("⏸ pause", "⏸ Pause"),
    ("Space", "Leertaste"),
    ("step", "Schritt"),
    ("key .", "Taste ."),
    ("key {}", "Taste {}"),
    ("jump to day", "springe zu Tag"),
    ("go", "los"),
    ("running ahead… {:.0} %", "läuft vor … {:.0} %"),
    (
        "falling behind: {:.0}× of {:.0}×",
        "fällt zurück: {:.0}× von {:.0}×",
    ),
    ("{:.0}× real time", "{:.0}× Echtzeit"),
    (
        "⚠ network solve not converged in {} ticks",
        "⚠ Netzberechnung in {} Takten nicht konvergiert",
    ),
    (
        "the loop equations stopped at the iteration limit: flows and pressures are not a solution (this tick: {}, loop residual {:.1} Pa; worst {} Pa)",
        "die Maschengleichungen endeten an der Iterationsgrenze: Durchflüsse und Drücke sind keine Lösung (dieser Takt: {}, Maschenresiduum {:.1} Pa; schlechtestes {} Pa)",
    ),
    ("converged", "konvergiert"),
    ("NOT converged", "NICHT konvergiert"),
    ("☰ panels", "☰ Tafeln"),
    (
        "show or hide the layer and KPI panels",
        "Ebenen- und Kennzahlentafeln zeigen oder verbergen",
    ),
    // The layers.
    ("Layers", "Ebenen"),
    (
        "no data links in this scene",
        "keine Datenverbindungen in dieser Szene",
    ),
    (
        "Arcs run from each city service's hub (a circle for traffic, a square for grid balancing, a triangle for sensing, drawn around the centre of the job origins) to each site. \"At risk\": secret longer than the quantum horizon minus the migration time (Mosca).",
        "Bögen laufen vom Knoten jedes städtischen Dienstes (Kreis: Verkehr, Quadrat: Netzausgleich, Dreieck: Sensorik, um die Mitte der Auftragsherkünfte gezeichnet) zu jedem Standort. „Gefährdet“: länger geheim als der Quantenhorizont abzüglich der Umstellungszeit (Mosca).",
    ),
    (
        "Pipes: supply (outer) and return tubes, coloured by water temperature 40–95 °C; dots move with the water (60× speed).",
        "Rohre: Vorlauf (außen) und Rücklauf, gefärbt nach Wassertemperatur 40–95 °C; Punkte bewegen sich mit dem Wasser (60-fach).",
    ),
    ("heat network", "Wärmenetz"),
    ("flow particles", "Strömungspunkte"),
    ("electrical feeders", "Stromabgänge"),
    (
        "Drag: orbit · right drag: pan · wheel: zoom · double-click: focus · R: reset",
        "Ziehen: drehen · rechts ziehen: verschieben · Rad: zoomen · Doppelklick: fokussieren · R: zurücksetzen",
    ),
    ("Supply temperature", "Vorlauftemperatur"),
    ("Heat demand", "Wärmebedarf"),
    ("Heat from quantum sites", "Wärme aus Quantenstandorten"),
    ("Unmet heat", "Ungedeckte Wärme"),
    ("Indoor temperature", "Innentemperatur"),
    ("Feeder loading", "Auslastung der Abgänge"),
    ("Carbon of heat", "CO₂ der Wärme"),
    ("Job load per site", "Auftragslast je Standort"),
    (
        "Data links: key exchange",
        "Datenverbindungen: Schlüsselaustausch",
    ),
    ("hybrid X25519 + ML-KEM-768", "hybrid X25519 + ML-KEM-768"),
    ("ML-KEM-768", "ML-KEM-768"),
    ("QKD on dark fibre", "QKD über dunkle Glasfaser"),
    ("QKD on its fallback", "QKD im Ersatzbetrieb"),
    ("classical, data at risk", "klassisch, Daten gefährdet"),
    ("classical, data short-lived", "klassisch, Daten kurzlebig"),
    ("key exchange failing", "Schlüsselaustausch scheitert"),
    ("no session", "keine Sitzung"),
    ("session open", "Sitzung offen"),
    ("{} · {:.1} km fibre · {}", "{} · {:.1} km Glasfaser · {}"),
    // The KPI details.
    ("City KPIs", "Kennzahlen der Stadt"),
    ("waste heat recovered", "Abwärme genutzt"),
    (
        "heat the heat pumps took from the quantum sites",
        "Wärme, die die Wärmepumpen den Quantenstandorten entnahmen",
    ),
    ("heat from quantum sites", "Wärme aus Quantenstandorten"),
    (
        "recovered waste heat / delivered heat",
        "genutzte Abwärme / gelieferte Wärme",
    ),
    (
        "demand the network could not meet",
        "Bedarf, den das Netz nicht decken konnte",
    ),
    ("CO₂ vs baseline", "CO₂ gegenüber Referenz"),
    (
        "against gas boilers for the heat delivered + a remote data centre; the unmet heat's gas CO₂ is shown apart",
        "gegenüber Gaskesseln für die gelieferte Wärme + einem fernen Rechenzentrum; das Gas-CO₂ der ungedeckten Wärme steht gesondert",
    ),
    ("renewable share", "Anteil erneuerbar"),
    (
        "electricity load met by local PV and wind",
        "Stromlast, gedeckt durch lokale PV und Wind",
    ),
    ("heat delivered", "Wärme geliefert"),
    (
        "quantum jobs done / missed",
        "Quantenaufträge erledigt / verpasst",
    ),
    (
        "jobs from city services (traffic, grid balancing, sensing); rejected jobs are counted in the report",
        "Aufträge städtischer Dienste (Verkehr, Netzausgleich, Sensorik); abgelehnte Aufträge zählt der Bericht",
    ),
    ("job success · wait", "Auftragserfolg · Wartezeit"),
    (
        "mean estimated success probability on the sites' current calibration, and mean queue wait",
        "mittlere geschätzte Erfolgswahrscheinlichkeit bei der aktuellen Kalibrierung der Standorte und mittlere Wartezeit",
    ),
    (
        "job data on quantum-safe links",
        "Auftragsdaten über quantensichere Verbindungen",
    ),
    (
        "hybrid X25519+ML-KEM-768, pure ML-KEM-768 or QKD key exchange, really performed for every session",
        "Schlüsselaustausch hybrid X25519+ML-KEM-768, rein ML-KEM-768 oder QKD, für jede Sitzung wirklich ausgeführt",
    ),
    ("harvest-now exposure", "„Jetzt speichern“-Risiko"),
    (
        "job data sent over classical key exchange whose secrecy lifetime plus migration time outlasts the horizon for a cryptographically relevant quantum computer (Mosca's inequality)",
        "Auftragsdaten mit klassischem Schlüsselaustausch, deren Geheimhaltungsdauer plus Umstellungszeit den Horizont eines kryptographisch relevanten Quantenrechners überdauert (Moscas Ungleichung)",
    ),
    ("{} · {} jobs", "{} · {} Aufträge"),
    ("classical", "klassisch"),
    ("hybrid", "hybrid"),
    ("no jobs yet", "noch keine Aufträge"),
    ("{} ms", "{} ms"),
    (
        "key exchange + encryption add {:.2} ms a job ({}) · {} handshakes, {} failed, {} QKD sessions fell back to classical",
        "Schlüsselaustausch + Verschlüsselung kosten {:.2} ms je Auftrag ({}) · {} Handshakes, {} gescheitert, {} QKD-Sitzungen fielen auf klassisch zurück",
    ),
    (
        "key exchange + encryption add {:.2} ms a job ({}) · {} handshakes",
        "Schlüsselaustausch + Verschlüsselung kosten {:.2} ms je Auftrag ({}) · {} Handshakes",
    ),
    (
        "sites' PUE {:.2} with their cooling vs {:.2} remote · unmet heat's gas CO₂ {:.0} kg",
        "PUE der Standorte {:.2} mit Kühlung gegenüber {:.2} fern · Gas-CO₂ der ungedeckten Wärme {:.0} kg",
    ),
    (
        "QAOA approximation ratio {:.3} · latency {:.2} ms local vs {:.1} ms remote · {} rejected",
        "QAOA-Approximationsgüte {:.3} · Latenz {:.2} ms lokal gegenüber {:.1} ms fern · {} abgelehnt",
    ),
    (
        "{} quantum sites · mean load {:.0} % · {:.0} kW electricity · {:.0} kW heat recovered",
        "{} Quantenstandorte · mittlere Last {:.0} % · {:.0} kW Strom · {:.0} kW Wärme genutzt",
    ),
    (
        "heat produced and from heat pumps (MW)",
        "erzeugte Wärme und davon aus Wärmepumpen (MW)",
    ),
    ("network heat", "Netzwärme"),
    ("heat pumps", "Wärmepumpen"),
    (
        "share of heat from quantum waste heat (%) · renewable share (%)",
        "Wärmeanteil aus Quantenabwärme (%) · Anteil erneuerbar (%)",
    ),
    ("waste heat", "Abwärme"),
    ("renewable", "erneuerbar"),
    (
        "CO₂ so far (t): twin vs baseline",
        "CO₂ bisher (t): Zwilling gegenüber Referenz",
    ),
    ("twin", "Zwilling"),
    ("baseline", "Referenz"),
    ("unmet heat (kW)", "ungedeckte Wärme (kW)"),
    ("unmet", "ungedeckt"),
    ("energy balance error ≤ {}", "Energiebilanzfehler ≤ {}"),
    // The scene's errors.
    (
        "This scene cannot be loaded",
        "Diese Szene lässt sich nicht laden",
    ),
    (
        "Fix the file and open it again (`qtwin check FILE` prints the same list).",
        "Datei korrigieren und neu öffnen (`qtwin check DATEI` gibt dieselbe Liste aus).",
    ),
    // The inspector.
    ("Inspect", "Untersuchen"),
    ("Building {}", "Gebäude {}"),
    ("use", "Nutzung"),
    ("{}, {} floors", "{}, {} Geschosse"),
    ("heated area", "beheizte Fläche"),
    ("heat-loss coefficient", "Wärmeverlustkoeffizient"),
    ("space heating", "Raumwärme"),
    ("hot water", "Warmwasser"),
    ("{:.1} °C (τ = {:.0} h)", "{:.1} °C (τ = {:.0} h)"),
    ("delivered", "geliefert"),
    ("mass flow", "Massenstrom"),
    ("differential pressure", "Differenzdruck"),
    ("return temperature", "Rücklauftemperatur"),
    ("electricity", "Strom"),
    ("delivered kW", "geliefert kW"),
    ("unmet kW", "ungedeckt kW"),
    ("Pipe {}", "Rohr {}"),
    ("length / inner diameter", "Länge / Innendurchmesser"),
    ("velocity", "Geschwindigkeit"),
    ("supply in → out", "Vorlauf ein → aus"),
    ("return in → out", "Rücklauf ein → aus"),
    ("heat loss", "Wärmeverlust"),
    ("loss coefficient", "Verlustkoeffizient"),
    ("mass flow kg/s", "Massenstrom kg/s"),
    ("supply outlet °C", "Vorlauf aus °C"),
    ("Quantum site {}", "Quantenstandort {}"),
    ("qubits", "Qubits"),
    ("online", "in Betrieb"),
    ("yes", "ja"),
    ("no", "nein"),
    ("utilisation", "Auslastung"),
    ("recoverable heat", "nutzbare Wärme"),
    ("{:.0} kW at {:.0} °C", "{:.0} kW bei {:.0} °C"),
    ("recovered by heat pump", "von der Wärmepumpe genutzt"),
    ("link from {}", "Verbindung von {}"),
    ("electricity kW", "Strom kW"),
    ("recovered kW", "genutzt kW"),
    ("Plant {}", "Anlage {}"),
    ("station heat", "Stationswärme"),
    ("supply / return", "Vorlauf / Rücklauf"),
    ("{:.2} MW at COP {:.2}", "{:.2} MW bei COP {:.2}"),
    ("boilers", "Kessel"),
    ("tank", "Speicher"),
    ("pump head / power", "Förderhöhe / Pumpleistung"),
    ("Wind turbine", "Windturbine"),
    ("all turbines: {:.2} MW", "alle Turbinen: {:.2} MW"),
    ("instruments (as measured)", "Messgeräte (wie gemessen)"),
    (" (frozen)", " (eingefroren)"),
    ("Residential", "Wohnen"),
    ("Office", "Büro"),
    ("Retail", "Handel"),
    ("School", "Schule"),
    ("Hospital", "Krankenhaus"),
    ("Industrial", "Industrie"),
    ("traffic", "Verkehr"),
    ("grid_balancing", "Netzausgleich"),
    ("sensing", "Sensorik"),
    ("unmet heat", "ungedeckte Wärme"),
    ("indoor temperature", "Innentemperatur"),
    ("supply temperature", "Vorlauftemperatur"),
    ("% of demand", "% des Bedarfs"),
    ("% of capacity", "% der Kapazität"),
    ("% busy", "% belegt"),
    // The planner ("What if").
    ("undo:", "rückgängig:"),
    ("redo:", "wiederholt:"),
    (
        "nothing to undo or redo",
        "nichts rückgängig zu machen oder zu wiederholen",
    ),
    (
        "applied to the running city",
        "auf die laufende Stadt angewandt",
    ),
    (
        "the network changed: the city was rebuilt, clock kept",
        "das Netz hat sich geändert: die Stadt wurde neu aufgebaut, die Uhr behalten",
    ),
    (
        "suggesting sites: 1-day runs of the best candidates…",
        "Standorte werden vorgeschlagen: 1-Tages-Läufe der besten Kandidaten …",
    ),
    ("✏ What if…", "✏ Was wäre, wenn …"),
    ("What if", "Was wäre, wenn"),
    ("undo", "rückgängig"),
    ("redo", "wiederholen"),
    ("share link", "Link teilen"),
    (
        "copy a link that opens these edits on this scene",
        "einen Link kopieren, der diese Änderungen an dieser Szene öffnet",
    ),
    ("name the last edit", "letzte Änderung benennen"),
    ("rename", "umbenennen"),
    ("save as", "speichern als"),
    ("save", "speichern"),
    ("Network temperatures", "Netztemperaturen"),
    ("supply shift, K", "Vorlaufverschiebung, K"),
    ("apply", "anwenden"),
    ("return, °C", "Rücklauf, °C"),
    ("Pipe insulation", "Rohrdämmung"),
    (
        "select a pipe on the map to insulate it alone",
        "ein Rohr auf der Karte wählen, um nur dieses zu dämmen",
    ),
    ("stretch from node", "Strecke von Knoten"),
    ("to", "bis"),
    ("Quantum sites", "Quantenstandorte"),
    ("➕ place a new site", "➕ neuen Standort setzen"),
    ("click on the map", "auf die Karte klicken"),
    (
        "select a site on the map to resize, move or remove it",
        "einen Standort auf der Karte wählen, um ihn zu ändern, zu verschieben oder zu entfernen",
    ),
    ("compressor, W", "Kompressor, W"),
    ("servers, W", "Server, W"),
    ("recoverable heat share", "nutzbarer Wärmeanteil"),
    ("water, °C", "Wasser, °C"),
    ("heat pump capacity, W", "Wärmepumpenleistung, W"),
    (
        "heat pump Carnot fraction",
        "Carnot-Gütegrad der Wärmepumpe",
    ),
    ("apply heat pump", "Wärmepumpe anwenden"),
    ("apply size", "Größe anwenden"),
    ("move", "verschieben"),
    ("remove", "entfernen"),
    (
        "PV, weather year, grid carbon",
        "PV, Wetterjahr, CO₂ des Stromnetzes",
    ),
    ("remove its PV", "seine PV entfernen"),
    (
        "select a building to put PV on its roof",
        "ein Gebäude wählen, um PV auf sein Dach zu setzen",
    ),
    ("weather year", "Wetterjahr"),
    ("mild", "mild"),
    ("typical", "typisch"),
    ("cold", "kalt"),
    ("another draw", "neu würfeln"),
    (
        "the same climate with another seed of its weather noise",
        "dasselbe Klima mit einem anderen Startwert seines Wetterrauschens",
    ),
    ("grid carbon ×", "CO₂ des Stromnetzes ×"),
    (
        "Compare with the baseline",
        "Vergleich mit der Ausgangslage",
    ),
    ("days", "Tage"),
    ("run", "starten"),
    ("running both worlds…", "beide Welten laufen …"),
    (
        "map: Δ supply temperature (blue colder, red warmer)",
        "Karte: Δ Vorlauftemperatur (blau kälter, rot wärmer)",
    ),
    ("boiler gas", "Kesselgas"),
    ("heat losses", "Wärmeverluste"),
    ("heat-pump electricity", "Wärmepumpenstrom"),
    ("KPI", "Kennzahl"),
    ("base", "Basis"),
    ("variant", "Variante"),
    ("Δ", "Δ"),
    ("Δ %", "Δ %"),
    ("heat delivered (MW)", "gelieferte Wärme (MW)"),
    ("waste heat recovered (MW)", "genutzte Abwärme (MW)"),
    ("Where to put a new site", "Wohin mit einem neuen Standort"),
    ("show suitability", "Eignung zeigen"),
    ("layer", "Ebene"),
    (
        "suggest 3 sites (1-day runs)",
        "3 Standorte vorschlagen (1-Tages-Läufe)",
    ),
    ("place", "setzen"),
    ("not applied: {}", "nicht angewandt: {}"),
    (
        "{} suggestions from 1-day runs",
        "{} Vorschläge aus 1-Tages-Läufen",
    ),
    (
        "⚠ KPIs since the start mix results from before and after “{}” (made at {:.1} h): compare for clean numbers",
        "⚠ Kennzahlen seit dem Start mischen Ergebnisse vor und nach „{}“ (um {:.1} h): für saubere Zahlen vergleichen",
    ),
    ("{} edit(s)", "{} Änderung(en)"),
    (
        "link copied ({} characters): open it in the page, or with `qtwin view SCENE --proposal LINK`",
        "Link kopiert ({} Zeichen): in der Seite öffnen oder mit `qtwin view SZENE --proposal LINK`",
    ),
    ("cannot share: {}", "kann nicht geteilt werden: {}"),
    (
        "saved {} with {} edit(s)",
        "{} mit {} Änderung(en) gespeichert",
    ),
    (
        "now: supply {:.0} °C at mild weather{}, return {:.0} °C",
        "jetzt: Vorlauf {:.0} °C bei mildem Wetter{}, Rücklauf {:.0} °C",
    ),
    (", {:.0} °C at design", ", {:.0} °C im Auslegungsfall"),
    (
        "apply to the selected pipe {}",
        "auf das gewählte Rohr {} anwenden",
    ),
    ("apply to every pipe ({})", "auf jedes Rohr anwenden ({})"),
    ("site {}", "Standort {}"),
    ("PV on the roof of {}", "PV auf das Dach von {}"),
    (
        "{} buildings with less unmet heat, {} with more (over {:.1} days)",
        "{} Gebäude mit weniger ungedeckter Wärme, {} mit mehr (über {:.1} Tage)",
    ),
    (
        "score = weighted mean of heat demand density ({:.2}), distance to the network ({:.2}), spare pipe capacity ({:.2}), feeder headroom ({:.2}), fibre latency ({:.2})",
        "Wert = gewichtetes Mittel aus Wärmebedarfsdichte ({:.2}), Abstand zum Netz ({:.2}), freier Rohrkapazität ({:.2}), Reserve der Abgänge ({:.2}), Glasfaserlatenz ({:.2})",
    ),
    (
        "#{} at ({:.0}, {:.0}) score {:.2}: waste heat {:+.0} kWh, gas {:+.0} kWh, CO₂ {:+.0} kg",
        "#{} bei ({:.0}, {:.0}) Wert {:.2}: Abwärme {:+.0} kWh, Gas {:+.0} kWh, CO₂ {:+.0} kg",
    ),
    ("simulated day {:.2}", "simulierter Tag {:.2}"),
    // The control room.
    (
        "no snapshot at or before that time",
        "keine Momentaufnahme zu oder vor dieser Zeit",
    ),
    ("rewound to {:.1} h", "zurückgespult auf {:.1} h"),
    (
        "replaying from {:.1} h at 3600×, the session's actions as they were made",
        "Wiedergabe ab {:.1} h mit 3600×, die Handlungen der Sitzung wie sie gemacht wurden",
    ),
    ("🛠 Operate", "🛠 Bedienen"),
    ("🔔 Alarms ({})", "🔔 Alarme ({})"),
    (
        "Alarms — {} active, {} unacknowledged",
        "Alarme — {} aktiv, {} unquittiert",
    ),
    (
        "ALARM FLOOD: {:.0} alarms in the last 10 minutes — deal with the critical ones first",
        "ALARMFLUT: {:.0} Alarme in den letzten 10 Minuten — zuerst die kritischen behandeln",
    ),
    ("acknowledge all", "alle quittieren"),
    (
        "values are as measured: sensors can drift or freeze",
        "Werte wie gemessen: Sensoren können driften oder einfrieren",
    ),
    ("ack", "quittieren"),
    ("unshelve", "zurückholen"),
    ("shelve", "zurückstellen"),
    ("30 minutes", "30 Minuten"),
    ("go to", "hingehen"),
    ("Operate", "Bedienen"),
    ("Operator", "Bedienung"),
    (
        "select a pipe, site or plant on the map for its actions",
        "ein Rohr, einen Standort oder eine Anlage auf der Karte für ihre Handlungen wählen",
    ),
    ("close valves (isolate)", "Ventile schließen (absperren)"),
    ("open valves", "Ventile öffnen"),
    ("drain jobs", "Aufträge abziehen"),
    ("resume jobs", "Aufträge fortsetzen"),
    ("on battery", "auf Batterie"),
    ("off battery", "von Batterie"),
    ("safe shutdown", "sicher herunterfahren"),
    ("start", "starten"),
    ("stop", "stoppen"),
    ("set supply temperature", "Vorlauftemperatur setzen"),
    ("back to the curve", "zurück zur Heizkurve"),
    (
        "no operator action on this object",
        "keine Bedienhandlung für dieses Objekt",
    ),
    ("set pump Δp", "Pumpen-Δp setzen"),
    ("reset", "zurücksetzen"),
    ("shed heat", "Wärme abwerfen"),
    ("shed", "abwerfen"),
    ("Failures", "Störungen"),
    ("{} on {} since {}", "{} an {} seit {}"),
    ("repair due {}", "Reparatur fällig {}"),
    ("dispatch a crew", "Trupp schicken"),
    ("action log ({})", "Handlungsprotokoll ({})"),
    (" (not done)", " (nicht ausgeführt)"),
    ("Instructor", "Ausbilder"),
    ("▶ run", "▶ laufen"),
    ("❄ freeze", "❄ anhalten"),
    (" s repair", " s Reparatur"),
    ("inject on {}:", "einspielen an {}:"),
    ("injected {}: {} on {}", "eingespielt {}: {} an {}"),
    ("feeder outage:", "Ausfall eines Abgangs:"),
    (
        "injected {}: outage of feeder {}",
        "eingespielt {}: Ausfall des Abgangs {}",
    ),
    ("clear {} now", "{} jetzt beheben"),
    ("leak", "Leck"),
    ("burst", "Rohrbruch"),
    ("compressor failure", "Kompressorausfall"),
    ("power outage", "Stromausfall"),
    ("fibre cut", "Glasfaser durchtrennt"),
    ("pump trip", "Pumpenabschaltung"),
    ("heat-pump trip", "Wärmepumpenabschaltung"),
    ("boiler failure", "Kesselausfall"),
    ("storage fault", "Speicherstörung"),
    ("sensor freeze", "Sensor eingefroren"),
    ("sensor drift", "Sensordrift"),
    ("rewind to", "zurückspulen auf"),
    ("⏮ rewind", "⏮ zurückspulen"),
    (
        "go back and take over from there",
        "zurückgehen und von dort übernehmen",
    ),
    ("⏩ replay", "⏩ Wiedergabe"),
    (
        "go back and replay the session at 3600×, with its actions, up to now",
        "zurückgehen und die Sitzung mit 3600× samt ihren Handlungen bis jetzt wiedergeben",
    ),
    (
        "{} snapshots, every {:.0} simulated minutes",
        "{} Momentaufnahmen, alle {:.0} simulierten Minuten",
    ),
    ("Training: {}", "Training: {}"),
    (
        "warming up the city… the session starts in {:.0} min",
        "die Stadt wärmt sich auf … die Sitzung beginnt in {:.0} min",
    ),
    ("session time {} of {}", "Sitzungszeit {} von {}"),
    (
        "objectives: every consumer's supply ≥ {:.0} °C · restore within {:.0} min{}",
        "Ziele: Vorlauf jedes Verbrauchers ≥ {:.0} °C · Wiederherstellung binnen {:.0} min{}",
    ),
    (" · no quantum job lost", " · kein Quantenauftrag verloren"),
    ("score so far {:.1}", "Punkte bisher {:.1}"),
    (
        "{:.0} min out of limits · {:.1} kWh unmet · {} jobs missed · {} hints",
        "{:.0} min außerhalb der Grenzen · {:.1} kWh ungedeckt · {} Aufträge verpasst · {} Hinweise",
    ),
    (
        "💡 hint ({} available, costs points)",
        "💡 Hinweis ({} verfügbar, kostet Punkte)",
    ),
    ("debrief", "Auswertung"),
    ("Debrief", "Auswertung"),
    ("{} — score {:.1}", "{} — Punkte {:.1}"),
    (
        "{} supply kept above {:.0} °C · {} no job lost · {} restored within {:.0} min",
        "{} Vorlauf über {:.0} °C gehalten · {} kein Auftrag verloren · {} binnen {:.0} min wiederhergestellt",
    ),
    ("time out of limits", "Zeit außerhalb der Grenzen"),
    ("jobs missed", "verpasste Aufträge"),
    ("response time to alarms", "Reaktionszeit auf Alarme"),
    ("hints used", "genutzte Hinweise"),
    ("late restore", "späte Wiederherstellung"),
    ("— (not restored)", "— (nicht wiederhergestellt)"),
    (
        "restored after {} · mean alarm response {:.0} s ({} of {} important alarms acknowledged) · {} floods · leak {:.0} kg of water",
        "wiederhergestellt nach {} · mittlere Alarmreaktion {:.0} s ({} von {} wichtigen Alarmen quittiert) · {} Alarmfluten · Leck {:.0} kg Wasser",
    ),
    ("Timeline", "Zeitleiste"),
    ("FAILURE {} ({})", "STÖRUNG {} ({})"),
    ("repaired {}", "repariert {}"),
    ("alarm {} {} {}", "Alarm {} {} {}"),
    ("ACTION {}", "HANDLUNG {}"),
    (
        "lowest supply temperature at a consumer (°C): true and as measured; minutes",
        "niedrigste Vorlauftemperatur an einem Verbraucher (°C): wahr und gemessen; Minuten",
    ),
    ("true", "wahr"),
    ("measured", "gemessen"),
    (
        "unmet heat (kW) and network flow (kg/s)",
        "ungedeckte Wärme (kW) und Netzdurchfluss (kg/s)",
    ),
    ("flow kg/s", "Durchfluss kg/s"),
    (
        "static pressure (bar): true and measured; alarms unacknowledged",
        "Ruhedruck (bar): wahr und gemessen; unquittierte Alarme",
    ),
    ("unacked alarms", "unquittierte Alarme"),
    ("Low", "niedrig"),
    ("Medium", "mittel"),
    ("High", "hoch"),
    ("Critical", "kritisch"),
    ("Normal", "normal"),
    ("Unacknowledged", "unquittiert"),
    ("Acknowledged", "quittiert"),
    ("ReturnedUnacknowledged", "zurückgekehrt, unquittiert"),
    ("Shelved", "zurückgestellt"),
    ("Pipe", "Rohr"),
    ("Site", "Standort"),
    ("Plant", "Anlage"),
    ("Building", "Gebäude"),
    ("Node", "Knoten"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_is_format_and_german_has_decimal_commas() {
        let x = 12.345_f64;
        assert_eq!(
            tf(Lang::En, "{:.1} MWh · {:+.2} % · {} jobs", &[&x, &-0.5, &7]),
            format!("{:.1} MWh · {:+.2} % · {} jobs", x, -0.5, 7)
        );
        assert_eq!(
            tf(Lang::De, "{:.1} MWh · {:+.2} %", &[&x, &-0.5]),
            "12,3 MWh · -0,50 %"
        );
        assert_eq!(
            tf(Lang::En, "day {} {:02}:{:02}", &[&3, &7, &5]),
            "day 3 07:05"
        );
        assert_eq!(
            tf(Lang::De, "day {} {:02}:{:02}", &[&3, &7, &5]),
            "Tag 3 07:05"
        );
        // Integers and names keep their dots in German (IDs such as "b.12" are not numbers).
        assert_eq!(tf(Lang::De, "Building {}", &[&"b.12"]), "Gebäude b.12");
        assert_eq!(tr(Lang::De, "Layers"), "Ebenen");
        assert_eq!(tr(Lang::En, "Layers"), "Layers");
        // A key without an entry shows in English; missing arguments leave the placeholder empty.
        assert_eq!(tr(Lang::De, "no such key"), "no such key");
        assert_eq!(tf(Lang::En, "a {} b {}", &[&1]), "a 1 b ");
        assert_eq!(tf(Lang::En, "open { brace", &[&1]), "open { brace");
    }

    /// The Rust string literal at the start of `s` (after its opening quote): escapes and `\`
    /// line continuations resolved.
    fn literal(s: &str) -> String {
        let mut out = String::new();
        let mut it = s.chars().peekable();
        while let Some(c) = it.next() {
            match c {
                '"' => return out,
                '\\' => match it.next() {
                    Some('n') => out.push('\n'),
                    Some('"') => out.push('"'),
                    Some('\\') => out.push('\\'),
                    Some('\n') => {
                        while it.peek().is_some_and(|c| c.is_whitespace()) {
                            it.next();
                        }
                    }
                    Some(o) => out.push(o),
                    None => break,
                },
                c => out.push(c),
            }
        }
        out
    }

    fn placeholders(s: &str) -> Vec<&str> {
        let mut v = Vec::new();
        let mut rest = s;
        while let Some(o) = rest.find('{') {
            let Some(c) = rest[o..].find('}') else { break };
            v.push(&rest[o..o + c + 1]);
            rest = &rest[o + c + 1..];
        }
        v
    }

    /// Words that are the same in German (units, names of schemes and models).
    const SAME: &[&str] = &[
        "MWh", "kWh", "MW", "kW", "W", "K", "kg", "s", "m", "mm", "km", "h", "C", "Pa", "kPa",
        "ms", "t", "B", "kB", "MB", "GB", "g", "bar", "min", "COP", "PUE", "QKD", "ML", "KEM",
        "CO", "ab", "τ",
    ];

    #[test]
    fn every_panel_string_has_german() {
        let sources = [
            ("ui.rs", include_str!("ui.rs")),
            ("planner.rs", include_str!("planner.rs")),
            ("control_room.rs", include_str!("control_room.rs")),
            ("mod.rs", include_str!("mod.rs")),
            ("world3d.rs", include_str!("world3d.rs")),
            ("links_layer.rs", include_str!("links_layer.rs")),
        ];
        let mut keys = 0;
        let mut missing = Vec::new();
        for (file, src) in sources {
            for pat in ["tr(lang, \"", "tf(lang, \"", "tr(l, \"", "tf(l, \""] {
                for (at, _) in src.match_indices(pat) {
                    let key = literal(&src[at + pat.len()..]);
                    keys += 1;
                    match de_table().get(key.as_str()) {
                        Some(de) => assert_eq!(
                            placeholders(de),
                            placeholders(&key),
                            "{file}: the German of {key:?} has other placeholders"
                        ),
                        None => {
                            let words = key
                                .split(|c: char| !c.is_alphabetic())
                                .filter(|w| !w.is_empty())
                                .all(|w| SAME.contains(&w));
                            if !words {
                                missing.push(format!("{file}: {key:?}"));
                            }
                        }
                    }
                }
            }
        }
        assert!(
            keys > 150,
            "only {keys} keys found: has the call syntax changed?"
        );
        assert!(missing.is_empty(), "no German for:\n{}", missing.join("\n"));
        for (en, de) in DE {
            assert_eq!(placeholders(en), placeholders(de), "{en:?}");
        }
    }

    #[test]
    fn proposal_banners_in_both_languages() {
        use crate::whatif::proposal::ProposalError as E;
        assert!(proposal_opened(Lang::En, 1).starts_with("A proposal: 1 edit applied"));
        assert!(proposal_opened(Lang::De, 3).starts_with("Ein Vorschlag: 3 Änderungen an"));
        let e = E::Damaged("bad base64".into());
        assert_eq!(
            proposal_failed(Lang::En, &e),
            "the proposal link is damaged (bad base64); copy the whole link again. The city opens unchanged."
        );
        assert_eq!(
            proposal_failed(Lang::De, &e),
            "Der Vorschlagslink ist beschädigt (bad base64); bitte den ganzen Link neu kopieren. Die Stadt öffnet unverändert."
        );
        let e = E::OtherScene {
            link: "ab12".into(),
            scene: "cd34".into(),
        };
        assert!(proposal_failed(Lang::De, &e).contains("andere Szene"));
    }

    #[test]
    fn the_names_shown_from_enums_have_german() {
        for layer in super::super::world3d::Layer::ALL {
            assert!(has_de(layer.name()), "layer {:?}", layer.name());
        }
        for look in super::super::links_layer::LinkLook::ALL {
            assert!(has_de(look.name()), "link look {:?}", look.name());
        }
        for layer in super::super::world3d::Layer::ALL {
            let unit = layer.legend().3;
            let plain_unit = unit
                .split(|c: char| !c.is_alphabetic())
                .all(|w| w.is_empty() || SAME.contains(&w));
            assert!(plain_unit || has_de(unit), "legend unit {unit:?}");
        }
        for s in crate::quantum::jobs::Service::ALL {
            assert!(has_de(s.name()), "service {:?}", s.name());
        }
        use crate::scene::BuildingUse as U;
        for u in [
            U::Residential,
            U::Office,
            U::Retail,
            U::School,
            U::Hospital,
            U::Industrial,
        ] {
            assert!(has_de(super::super::ui::use_name(u)));
        }
        for n in [
            "Low",
            "Medium",
            "High",
            "Critical",
            "Normal",
            "Unacknowledged",
            "Acknowledged",
            "ReturnedUnacknowledged",
            "Shelved",
            "Pipe",
            "Site",
            "Plant",
            "Building",
            "Node",
        ] {
            assert!(has_de(n), "{n}");
        }
    }
}
