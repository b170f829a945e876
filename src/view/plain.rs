//! The KPI panel for residents (issue 18): what a household would notice, in plain words, in
//! English or German. Every string of this mode is here, one function per language, so that a
//! translation is one more arm.
//!
//! Every number comes from the running simulation; the factors that turn it into everyday terms
//! are constants with their source:
//! - a **home** is [`HOME_AREA_M2`] of heated floor (92 m², about the average German dwelling in
//!   Destatis' housing-stock statistics) heated at this city's own mean heat use per m² so far;
//!   "heat for N homes came from the quantum sites" is then the waste-heat share of the delivered
//!   heat times the city's heated floor area over 92 m²;
//! - a **hot shower** is 40 L (5 minutes at 8 L/min, an assumption) warmed by 28 K (10 → 38 °C)
//!   by a gas boiler of 92 % efficiency burning natural gas at 0.202 kg CO₂/kWh
//!   ([`crate::ledger::GAS_CO2_KG_KWH`], IPCC 2006: 56.1 t/TJ): [`shower_co2_kg`] = 0.29 kg;
//! - a **cold home** is a heated building below [`COLD_INDOOR_C`] (18 °C) inside now.

use crate::demand::Buildings;
use crate::ledger::report::Kpis;
use crate::ledger::{GAS_CO2_KG_KWH, Ledger};
use crate::scene::Scene;

/// Heated floor area of one home, m².
pub const HOME_AREA_M2: f64 = 92.0;
/// A shower's water, L (kg), and how much it is warmed, K.
pub const SHOWER_WATER_KG: f64 = 40.0;
pub const SHOWER_RISE_K: f64 = 28.0;
/// A gas boiler's efficiency for the shower equivalent.
pub const BOILER_EFFICIENCY: f64 = 0.92;
/// Indoors below this is cold, °C.
pub const COLD_INDOOR_C: f64 = 18.0;

/// The page's languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    De,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::De];
    /// From a language code (`en`, `de`, `de-DE`, …); `None` for one not shipped.
    pub fn parse(s: &str) -> Option<Lang> {
        let code = s.trim().to_ascii_lowercase();
        match code.split(['-', '_']).next().unwrap_or("") {
            "en" => Some(Lang::En),
            "de" => Some(Lang::De),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }
    /// The language's own name, for the selector.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::De => "Deutsch",
        }
    }
}

/// CO₂ of one hot shower heated with gas, kg.
pub fn shower_co2_kg() -> f64 {
    let heat_kwh = SHOWER_WATER_KG * 4186.0 * SHOWER_RISE_K / 3.6e6;
    heat_kwh / BOILER_EFFICIENCY * GAS_CO2_KG_KWH
}

/// The values the plain panel shows, from the simulation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlainValues {
    /// Homes' worth of heat that came from the quantum sites' waste heat.
    pub homes_from_waste_heat: f64,
    pub co2_avoided_kg: f64,
    pub showers: f64,
    /// Heated buildings, and how many are below 18 °C inside now.
    pub heated_buildings: usize,
    pub cold_buildings: usize,
    pub jobs_completed: u64,
    pub quantum_safe_share: f64,
    /// Simulated hours so far.
    pub hours: f64,
}

impl PlainValues {
    pub fn new(k: &Kpis, b: &Buildings, connected: &[bool], hours: f64) -> Self {
        let heated: Vec<usize> = (0..b.ids.len())
            .filter(|&i| connected.get(i).copied().unwrap_or(false))
            .collect();
        let area: f64 = heated.iter().map(|&i| b.heated_area_m2[i]).sum();
        let indoor = b.indoor_temp_c();
        let co2_avoided_kg = (k.co2_baseline_kg - k.co2_kg).max(0.0);
        Self {
            homes_from_waste_heat: k.waste_heat_share * area / HOME_AREA_M2,
            co2_avoided_kg,
            showers: co2_avoided_kg / shower_co2_kg(),
            heated_buildings: heated.len(),
            cold_buildings: heated
                .iter()
                .filter(|&&i| indoor[i] < COLD_INDOOR_C)
                .count(),
            jobs_completed: k.quantum_jobs_completed,
            quantum_safe_share: k.link_quantum_safe_share,
            hours,
        }
    }
}

/// One line of the panel: a large number and the sentence around it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlainLine {
    pub number: String,
    pub text: String,
}

/// The panel's lines for the world as it is: the run's KPIs, its simulated span, the scene's
/// connected buildings.
pub fn lines_now(
    l: &Ledger,
    tick_s: f64,
    scene: &Scene,
    b: &Buildings,
    lang: Lang,
) -> Vec<PlainLine> {
    let k = Kpis::from_ledger(l);
    let connected: Vec<bool> = scene.buildings.iter().map(|x| x.node.is_some()).collect();
    let hours = l.ticks as f64 * tick_s / 3600.0;
    plain_lines(&PlainValues::new(&k, b, &connected, hours), lang)
}

/// [`lines_now`] for panels drawn every frame: recomputed only when the ledger has ticked or the
/// language changed (the lines cost a pass over every building).
#[derive(Debug, Default)]
pub struct PlainCache {
    key: Option<(u64, Lang)>,
    lines: Vec<PlainLine>,
}

impl PlainCache {
    pub fn lines(
        &mut self,
        l: &Ledger,
        tick_s: f64,
        scene: &Scene,
        b: &Buildings,
        lang: Lang,
    ) -> &[PlainLine] {
        if self.key != Some((l.ticks, lang)) {
            self.lines = lines_now(l, tick_s, scene, b, lang);
            self.key = Some((l.ticks, lang));
        }
        &self.lines
    }
}

/// Whole numbers with thousands separators: `1,234` in English, `1.234` in German.
pub fn whole(v: f64, lang: Lang) -> String {
    let n = v.max(0.0).round() as u64;
    let s = n.to_string();
    let sep = match lang {
        Lang::En => ',',
        Lang::De => '.',
    };
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(ch);
    }
    out
}

/// A simulated span in words: minutes under an hour, hours under two days, then days.
pub fn span(hours: f64, lang: Lang) -> String {
    let (n, unit) = if hours < 1.0 {
        ((hours * 60.0).round().max(1.0), 0)
    } else if hours < 48.0 {
        (hours.round(), 1)
    } else {
        ((hours / 24.0).round(), 2)
    };
    let one = n == 1.0;
    let word = match (lang, unit, one) {
        (Lang::En, 0, true) => "minute",
        (Lang::En, 0, false) => "minutes",
        (Lang::En, 1, true) => "hour",
        (Lang::En, 1, false) => "hours",
        (Lang::En, _, true) => "day",
        (Lang::En, _, false) => "days",
        (Lang::De, 0, true) => "Minute",
        (Lang::De, 0, false) => "Minuten",
        (Lang::De, 1, true) => "Stunde",
        (Lang::De, 1, false) => "Stunden",
        (Lang::De, _, true) => "Tag",
        (Lang::De, _, false) => "Tagen",
    };
    format!("{} {word}", whole(n, lang))
}

/// The panel's heading, its toggle and the note on the factors.
pub struct PlainChrome {
    pub heading: &'static str,
    pub for_residents: &'static str,
    pub details: &'static str,
    pub sources: &'static str,
}

pub fn chrome(lang: Lang) -> PlainChrome {
    match lang {
        Lang::En => PlainChrome {
            heading: "What the city notices",
            for_residents: "for residents",
            details: "details",
            sources: "A home: 92 m² (about the average German dwelling, Destatis) at this city's heat \
                      use per m². A shower: 40 L warmed by 28 K with gas (92 % boiler, 0.202 kg \
                      CO₂/kWh, IPCC 2006). Cold: below 18 °C inside.",
        },
        Lang::De => PlainChrome {
            heading: "Was die Stadt merkt",
            for_residents: "für Bürger",
            details: "Details",
            sources: "Eine Wohnung: 92 m² (etwa die durchschnittliche Wohnung in Deutschland, \
                      Destatis) beim Wärmebedarf je m² dieser Stadt. Eine Dusche: 40 L um 28 K mit \
                      Gas erwärmt (Kessel 92 %, 0,202 kg CO₂/kWh, IPCC 2006). Kalt: unter 18 °C \
                      drinnen.",
        },
    }
}

/// The panel's lines.
pub fn plain_lines(v: &PlainValues, lang: Lang) -> Vec<PlainLine> {
    let homes = whole(v.homes_from_waste_heat, lang);
    let kg = whole(v.co2_avoided_kg, lang);
    let showers = whole(v.showers, lang);
    let jobs = whole(v.jobs_completed as f64, lang);
    let span = span(v.hours, lang);
    let safe = format!("{:.0} %", 100.0 * v.quantum_safe_share);
    match lang {
        Lang::En => vec![
            PlainLine {
                number: homes,
                text: format!(
                    "homes' worth of heat came from the quantum computers' waste heat in the last \
                     {span}"
                ),
            },
            PlainLine {
                number: format!("{kg} kg"),
                text: format!(
                    "less CO₂ than with gas boilers and a distant data centre: as much as {showers} \
                     hot showers heated with gas"
                ),
            },
            if v.cold_buildings == 0 {
                PlainLine {
                    number: whole(v.heated_buildings as f64, lang),
                    text: "buildings on the heat network, all warm inside (18 °C or more)".into(),
                }
            } else {
                PlainLine {
                    number: whole(v.cold_buildings as f64, lang),
                    text: format!(
                        "of {} buildings on the heat network are below 18 °C inside now",
                        v.heated_buildings
                    ),
                }
            },
            PlainLine {
                number: jobs,
                text: "computing jobs for traffic lights, the power grid and air sensors ran on \
                       the city's own quantum computers"
                    .into(),
            },
            PlainLine {
                number: safe,
                text: "of the data sent to them is protected against future quantum computers"
                    .into(),
            },
        ],
        Lang::De => vec![
            PlainLine {
                number: homes,
                text: format!(
                    "Wohnungen wurden in den letzten {span} mit der Abwärme der \
                     Quantenrechner geheizt"
                ),
            },
            PlainLine {
                number: format!("{kg} kg"),
                text: format!(
                    "weniger CO₂ als mit Gaskesseln und einem fernen Rechenzentrum: so viel wie \
                     {showers} mit Gas erwärmte Duschen"
                ),
            },
            if v.cold_buildings == 0 {
                PlainLine {
                    number: whole(v.heated_buildings as f64, lang),
                    text: "Gebäude am Wärmenetz, alle drinnen warm (18 °C oder mehr)".into(),
                }
            } else {
                PlainLine {
                    number: whole(v.cold_buildings as f64, lang),
                    text: format!(
                        "von {} Gebäuden am Wärmenetz sind drinnen gerade unter 18 °C",
                        v.heated_buildings
                    ),
                }
            },
            PlainLine {
                number: jobs,
                text: "Rechenaufträge für Ampeln, Stromnetz und Luftsensoren liefen auf den \
                       eigenen Quantenrechnern der Stadt"
                    .into(),
            },
            PlainLine {
                number: safe,
                text: "der Daten an sie sind gegen künftige Quantenrechner geschützt".into(),
            },
        ],
    }
}

/// The text alternative of what the canvas shows, for the page's screen-reader region: the
/// plain lines (number and sentence), then the tour's caption when it runs.
pub fn text_alternative(lines: &[PlainLine], tour: Option<&super::tour::Caption>) -> String {
    let mut out: Vec<String> = lines
        .iter()
        .map(|l| format!("{} {}.", l.number, l.text))
        .collect();
    if let Some(c) = tour {
        out.push(format!(
            "{}: {} {}. {}",
            c.title, c.number, c.number_label, c.text
        ));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shower_is_029_kg_of_co2() {
        // 40 kg · 4186 J/(kg·K) · 28 K = 4.688 MJ = 1.302 kWh; / 0.92 · 0.202 = 0.2859 kg.
        assert!(
            (shower_co2_kg() - 0.2859).abs() < 1e-4,
            "{}",
            shower_co2_kg()
        );
    }

    #[test]
    fn numbers_are_grouped_per_language() {
        assert_eq!(whole(1234567.4, Lang::En), "1,234,567");
        assert_eq!(whole(1234567.4, Lang::De), "1.234.567");
        assert_eq!(whole(999.5, Lang::En), "1,000");
        assert_eq!(whole(12.0, Lang::De), "12");
        assert_eq!(whole(-3.0, Lang::En), "0");
        assert_eq!(Lang::parse("de-DE"), Some(Lang::De));
        assert_eq!(Lang::parse(" EN "), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
        assert_eq!(span(0.0, Lang::En), "1 minute");
        assert_eq!(span(5.0 / 60.0, Lang::En), "5 minutes");
        assert_eq!(span(1.2, Lang::De), "1 Stunde");
        assert_eq!(span(10.0, Lang::En), "10 hours");
        assert_eq!(span(72.0, Lang::De), "3 Tagen");
        assert_eq!(span(24.0 * 365.0, Lang::En), "365 days");
    }

    /// Riverside after six hours of a January morning: the lines carry the run's numbers, in
    /// both languages, and every language has as many lines.
    #[test]
    fn riverside_plain_lines_read_the_run() {
        use crate::ledger::Ledger;
        use crate::scene::load_scene;
        use crate::sim::{RunOptions, Simulation};
        let scene = load_scene(std::path::Path::new("scenes/riverside.ron")).unwrap();
        let mut sim = Simulation::new(&scene, &RunOptions::default()).unwrap();
        sim.run_ticks(6 * 60);
        let k = Kpis::from_ledger(sim.res::<Ledger>());
        let b = sim.res::<Buildings>();
        let connected: Vec<bool> = scene.buildings.iter().map(|x| x.node.is_some()).collect();
        let v = PlainValues::new(&k, b, &connected, 6.0);
        let area: f64 = (0..b.ids.len())
            .filter(|&i| connected[i])
            .map(|i| b.heated_area_m2[i])
            .sum();
        assert!(area > 10_000.0);
        assert!(k.waste_heat_share > 0.01);
        let homes = k.waste_heat_share * area / 92.0;
        assert!((v.homes_from_waste_heat - homes).abs() < 1e-9);
        assert!(
            v.homes_from_waste_heat >= 1.0,
            "{}",
            v.homes_from_waste_heat
        );
        assert_eq!(v.heated_buildings, connected.iter().filter(|&&c| c).count());
        let en = plain_lines(&v, Lang::En);
        let de = plain_lines(&v, Lang::De);
        assert_eq!(en.len(), de.len());
        assert_eq!(en[0].number, whole(homes, Lang::En));
        assert!(en[0].text.ends_with("in the last 6 hours"));
        assert!(de[0].text.contains("letzten 6 Stunden"));
        let kg = (k.co2_baseline_kg - k.co2_kg).max(0.0);
        assert_eq!(en[1].number, format!("{} kg", whole(kg, Lang::En)));
        assert!(en[1].text.contains(&format!(
            "{} hot showers",
            whole(kg / shower_co2_kg(), Lang::En)
        )));
        assert_eq!(
            en[3].number,
            whole(k.quantum_jobs_completed as f64, Lang::En)
        );
        assert_eq!(
            de[4].number,
            format!("{:.0} %", 100.0 * k.link_quantum_safe_share)
        );
        let alt = text_alternative(&en, None);
        assert_eq!(alt.lines().count(), 5);
        assert!(
            alt.starts_with(&format!("{} homes' worth of heat", en[0].number)),
            "{alt}"
        );
    }
}
