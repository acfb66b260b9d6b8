//! CISA's Known Exploited Vulnerabilities catalog: which CVEs attackers use now, and which
//! of them ransomware campaigns use. Both move a finding to the top of the list.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::date::Date;
use super::error::{from_json, FeedError};
use super::model::is_cve_id;

/// The catalog, by CVE id.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KevCatalog {
    pub catalog_version: String,
    pub entries: HashMap<String, KevEntry>,
}

/// What CISA says about one exploited CVE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KevEntry {
    pub date_added: Date,
    pub due_date: Date,
    pub ransomware: RansomwareUse,
    pub vendor_project: String,
    pub product: String,
}

/// CISA's `knownRansomwareCampaignUse`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RansomwareUse {
    /// Used in a ransomware campaign.
    Known,
    /// CISA has no confirmation either way.
    Unknown,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCatalog {
    catalog_version: String,
    count: usize,
    vulnerabilities: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    #[serde(rename = "cveID")]
    cve_id: CveId,
    vendor_project: String,
    product: String,
    date_added: Date,
    due_date: Date,
    known_ransomware_campaign_use: RansomwareUse,
}

/// A CVE id, refused at its JSON path if it is not one.
struct CveId(String);

impl<'de> Deserialize<'de> for CveId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if is_cve_id(&s) {
            Ok(CveId(s))
        } else {
            Err(serde::de::Error::custom(format!("{s:?} is not a CVE id")))
        }
    }
}

impl KevCatalog {
    /// Parses `known_exploited_vulnerabilities.json`. A catalog whose `count` disagrees
    /// with its list is refused: it was cut short or edited.
    pub fn parse(bytes: &[u8], file: &str) -> Result<KevCatalog, FeedError> {
        let raw: RawCatalog = from_json(bytes, file)?;
        if raw.count != raw.vulnerabilities.len() {
            return Err(FeedError::Json {
                file: file.to_owned(),
                path: "count".to_owned(),
                message: format!(
                    "the catalog says {} entries but lists {}",
                    raw.count,
                    raw.vulnerabilities.len()
                ),
            });
        }
        let entries = raw
            .vulnerabilities
            .into_iter()
            .map(|e| {
                (
                    e.cve_id.0,
                    KevEntry {
                        date_added: e.date_added,
                        due_date: e.due_date,
                        ransomware: e.known_ransomware_campaign_use,
                        vendor_project: e.vendor_project,
                        product: e.product,
                    },
                )
            })
            .collect();
        Ok(KevCatalog {
            catalog_version: raw.catalog_version,
            entries,
        })
    }

    pub fn get(&self, cve: &str) -> Option<&KevEntry> {
        self.entries.get(cve)
    }

    /// How many CVEs the catalog lists.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
