"""Country and first-level region names in the EcoMapper dataset's convention.

The dataset's `location_address` says "Krasnoyarsk Krai, Russia": short common English names, as
OpenStreetMap's English names give them. Gazetteers (GeoNames via `reverse-geocode`, ISO 3166)
give formal names ("Russian Federation", "Iran, Islamic Republic of"), which a model trained on
EcoMapper captions never saw. `dataset_country_name` maps them; it is applied to every country
name that comes from a geocoder or a boundary file. Regions likewise: the dataset writes
"Chernivtsi Oblast, Ukraine" and "Krasnoyarsk Krai, Russia" (real samples of the original's
example_dataset) where Natural Earth and GeoNames say "Chernivtsi" and "Krasnoyarsk";
`dataset_state_name` adds the suffix.
"""

from __future__ import annotations

# formal / ISO 3166 name -> the dataset's common English name
DATASET_COUNTRY_NAMES = {
    "Russian Federation": "Russia",
    "Iran, Islamic Republic of": "Iran",
    "Iran (Islamic Republic of)": "Iran",
    "Korea, Republic of": "South Korea",
    "Republic of Korea": "South Korea",
    "Korea, Democratic People's Republic of": "North Korea",
    "Dem. Rep. Korea": "North Korea",
    "Congo, The Democratic Republic of the": "Democratic Republic of the Congo",
    "Congo, Democratic Republic of the": "Democratic Republic of the Congo",
    "Dem. Rep. Congo": "Democratic Republic of the Congo",
    "Congo": "Congo-Brazzaville",
    "Republic of the Congo": "Congo-Brazzaville",
    "Syrian Arab Republic": "Syria",
    "Tanzania, United Republic of": "Tanzania",
    "United Republic of Tanzania": "Tanzania",
    "Moldova, Republic of": "Moldova",
    "Lao People's Democratic Republic": "Laos",
    "Viet Nam": "Vietnam",
    "Venezuela, Bolivarian Republic of": "Venezuela",
    "Bolivia, Plurinational State of": "Bolivia",
    "Taiwan, Province of China": "Taiwan",
    "Micronesia, Federated States of": "Micronesia",
    "Palestine, State of": "Palestinian Territories",
    "Brunei Darussalam": "Brunei",
    "Cabo Verde": "Cape Verde",
    "Czech Republic": "Czechia",
    "Macedonia, the former Yugoslav Republic of": "North Macedonia",
    "Macedonia": "North Macedonia",
    "Swaziland": "Eswatini",
    "eSwatini": "Eswatini",
    "Turkey": "Türkiye",
    "United States of America": "United States",
    "United Kingdom of Great Britain and Northern Ireland": "United Kingdom",
    "Falkland Islands (Malvinas)": "Falkland Islands",
    "Holy See (Vatican City State)": "Vatican City",
    "Myanmar (Burma)": "Myanmar",
    "Burma": "Myanmar",
    "Ivory Coast": "Côte d'Ivoire",
    "Cote d'Ivoire": "Côte d'Ivoire",
    "Gambia": "The Gambia",
    "Bahamas": "The Bahamas",
    "Timor-Leste": "East Timor",
    "S. Sudan": "South Sudan",
    "Central African Rep.": "Central African Republic",
    "Bosnia and Herz.": "Bosnia and Herzegovina",
    "Dominican Rep.": "Dominican Republic",
    "Eq. Guinea": "Equatorial Guinea",
    "Solomon Is.": "Solomon Islands",
    "W. Sahara": "Western Sahara",
    # Natural Earth admin-0 `ADMIN` names that differ from the dataset's
    "Republic of Serbia": "Serbia",
    "Hong Kong S.A.R.": "Hong Kong",
    "Macao S.A.R": "Macao",
    "Federated States of Micronesia": "Micronesia",
    "Vatican": "Vatican City",
    "Palestine": "Palestinian Territories",
    "Guinea Bissau": "Guinea-Bissau",
}

# Countries whose first-level regions the dataset names with their kind ("Chernivtsi Oblast"), by Natural
# Earth's `type_en` of the region (None: the gazetteer's name, which carries no kind).
_REGION_SUFFIX = {
    "Ukraine": {None: "Oblast", "Region": "Oblast"},
    "Russia": {"Territory": "Krai", "Region": "Oblast"},
    "Belarus": {None: "Region", "Region": "Region"},
    "Kazakhstan": {"Region": "Region"},
}
# Region names the gazetteer / Natural Earth write otherwise than the dataset (whole names, per country)
_REGION_NAMES = {
    ("Ukraine", "Kyiv City"): "Kyiv",
    ("Ukraine", "Crimea"): "Autonomous Republic of Crimea",
    ("Ukraine", "Sevastopol'"): "Sevastopol",
    ("Algeria", "Tamanghasset"): "Tamanrasset",
    ("Mexico", "Mexico"): "Mexico City",  # Natural Earth's English name of the Distrito Federal
}


# Countries whose Natural Earth admin-1 layer predates a reform the dataset follows: with Natural Earth's
# layer, their states come from the gazetteer (GeoNames, current divisions); other boundary files decide.
OUTDATED_ADMIN1 = {
    # Natural Earth keeps the 11 provinces of before 2015; the dataset writes the 26 ("Tshuapa")
    "Democratic Republic of the Congo",
}


# Countries whose Natural Earth admin-1 polygons are second-level units (départements, provinces,
# boroughs): the polygon still decides where the point is, and the gazetteer's first-level name of a
# town inside that polygon names the state ("Bas-Rhin" -> "Grand Est").
SECOND_LEVEL_ADMIN1 = {"France", "Italy", "Spain", "United Kingdom", "Philippines"}


def dataset_country_name(name: str) -> str:
    """The dataset's name for a country (unchanged when it already is one)."""
    cleaned = (name or "").strip()
    return DATASET_COUNTRY_NAMES.get(cleaned, cleaned)


def dataset_state_name(name: str, country: str, kind: str | None = None) -> str:
    """The dataset's name for a first-level region of `country` ("Chernivtsi" -> "Chernivtsi Oblast").

    Args:
        name: the region's name from Natural Earth or the gazetteer.
        country: the dataset's country name.
        kind: Natural Earth's `type_en` of the region, when it comes from there.
    """
    cleaned = (name or "").strip()
    if (country, cleaned) in _REGION_NAMES:
        return _REGION_NAMES[(country, cleaned)]
    suffix = _REGION_SUFFIX.get(country, {}).get(kind)
    if suffix and cleaned and not cleaned.endswith((" " + suffix, " City", " Republic")):
        return f"{cleaned} {suffix}"
    return cleaned
