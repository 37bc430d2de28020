"""The survey source: native and mapped exports, every bad row quarantined with its reason, answers immutable,
follow-ups that update, e-mail addresses never stored in clear, and erasure that sticks."""

from __future__ import annotations

import pytest

from extractors.survey.extract import MAPPINGS, SurveyMapping, SurveySourceError, extract_surveys
from socialcx.core.pii import email_hash
from tests.support import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "survey"
HEADER = "response_id,brand,respondent_id,social_handle,email,score,comment,responded_at,touchpoint\n"


def _reasons(con):
    return sorted(r for (r,) in con.execute("select reason from raw.quarantine where source = 'survey'").fetchall())


def _clear_emails(con) -> int:
    """Rows anywhere in raw that still hold an e-mail address of the fixtures in clear."""
    return sum(con.execute(f"select count(*) from {table} where cast(columns(*) as varchar) like '%@example.com%'")
               .fetchone()[0] for table in ("raw.survey_responses", "raw.quarantine", "raw.survey_followups"))


def test_native_answers_load_and_each_kind_of_bad_row_is_quarantined(con, tmp_path):
    path = tmp_path / "nps.csv"
    path.write_text(HEADER + "\n".join([
        "a1,SkyLarkAir,C1,,ana@example.com,9,Great crew,2026-10-01T09:00:00Z,order",
        "a2,SkyLarkAir,,bob_k,,0,Lost my bag. Call me on +1 555 123 4567,2026-10-01T10:00:00Z,social_reply",
        "a3,SkyLarkAir,C3,,,11,,2026-10-01T11:00:00Z,order",          # score outside 0-10
        "a4,SkyLarkAir,C4,,,ten,,2026-10-01T11:00:00Z,order",         # score not a number
        "a5,,C5,,,7,,2026-10-01T11:00:00Z,order",                     # no brand
        "a6,SkyLarkAir,C6,,,7,,,order",                               # no date
        "a7,SkyLarkAir,C7,,,7,,2099-01-01T00:00:00Z,order",           # a future date
        "a1,SkyLarkAir,C1,,ana@example.com,3,Changed my mind,2026-10-01T09:00:00Z,order",  # same id, other content
        "a2,SkyLarkAir,,bob_k,,0,Lost my bag. Call me on +1 555 123 4567,2026-10-01T10:00:00Z,social_reply",  # same
        "a8,SkyLarkAir,C8,,,7.5,,2026-10-01T11:00:00Z,order",         # not a whole score
    ]) + "\n")
    [result] = extract_surveys(con, [path], run_id="r1")
    assert (result.read, result.loaded, result.quarantined) == (10, 3, 7)
    assert result.read == result.loaded + result.quarantined
    assert _reasons(con) == ["duplicate response_id with different content", "no brand", "no responded_at date",
                             "responded_at in the future", "score is not a number", "score outside 0-10",
                             "score outside 0-10"]
    rows = con.execute("select response_id, score, respondent_id, social_handle, email_hash from raw.survey_responses "
                       "order by response_id").fetchall()
    assert rows == [("a1", 9, "C1", None, email_hash("ana@example.com")), ("a2", 0, None, "bob_k", None)]
    assert _clear_emails(con) == 0  # the digest only, in the answers and in quarantine alike

    # the same file again changes nothing; a later export that re-delivers a1 with another score is quarantined
    [again] = extract_surveys(con, [path], run_id="r2")
    assert again.read == 0 and "unchanged since it was last loaded" in again.notes[0]
    later = tmp_path / "nps_later.csv"
    later.write_text(HEADER + "a1,SkyLarkAir,C1,,ana@example.com,2,,2026-10-01T09:00:00Z,order\n"
                              "a9,SkyLarkAir,C9,,,10,,2026-10-03T09:00:00Z,order\n")
    [result] = extract_surveys(con, [later], run_id="r3")
    assert (result.read, result.inserted, result.quarantined) == (2, 1, 1)
    assert "response_id already loaded with different content" in _reasons(con)
    assert con.execute("select score from raw.survey_responses where response_id = 'a1'").fetchone() == (9,)


def test_a_file_without_the_native_columns_names_them_and_the_fix(con, tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("id,rating\n1,9\n")
    with pytest.raises(SurveySourceError, match="has no column response_id, brand, score, responded_at.*--format mapped"):
        extract_surveys(con, [path], run_id="r1")
    bad = tmp_path / "mapping.yml"
    bad.write_text("columns:\n  response_id: id\n  rating: score\n")
    with pytest.raises(SurveySourceError, match="maps rating, which are not survey columns"):
        SurveyMapping.from_file(bad)


def test_a_qualtrics_export_loads_through_its_shipped_mapping(con):
    """Three header rows (field names, question texts, ImportIds) before the answers; the brand from the mapping's
    defaults; the CRM id from ExternalReference; an answer without a score is quarantined."""
    [result] = extract_surveys(con, [FIXTURES / "qualtrics_export.csv"], run_id="r1",
                               mapping=SurveyMapping.from_file(MAPPINGS / "qualtrics.yml"))
    assert (result.read, result.loaded, result.quarantined) == (3, 2, 1)
    assert _reasons(con) == ["score is missing"]
    assert con.execute("select response_id, brand, respondent_id, score, responded_at::varchar, comment, touchpoint "
                       "from raw.survey_responses order by response_id").fetchall() == [
        ("R_1aBcDeFgHiJkLmN", "SkyLarkAir", "C0000001", 10, "2026-10-01 09:02:11+00",
         "Crew were wonderful on my flight to Denver.", "survey_email"),
        ("R_2bCdEfGhIjKlMnO", "SkyLarkAir", None, 2, "2026-10-01 10:01:06+00", "My bag never arrived in Boston.",
         "survey_email")]
    assert _clear_emails(con) == 0


def test_a_surveymonkey_export_loads_through_its_shipped_mapping(con):
    [result] = extract_surveys(con, [FIXTURES / "surveymonkey_export.csv"], run_id="r1",
                               mapping=SurveyMapping.from_file(MAPPINGS / "surveymonkey.yml"))
    assert (result.read, result.loaded, result.quarantined) == (2, 2, 0)
    assert con.execute("select response_id, respondent_id, score, responded_at::varchar from raw.survey_responses "
                       "order by response_id").fetchall() == [
        ("114233556677", "C0000009", 9, "2026-10-05 09:12:30+00"), ("114233556678", "C0000010", 6,
                                                                      "2026-10-05 13:03:15+00")]


def test_followups_merge_and_a_later_export_closes_the_loop(con, tmp_path):
    answers = tmp_path / "nps.csv"
    answers.write_text(HEADER + "d1,SkyLarkAir,C1,,,2,,2026-10-01T09:00:00Z,order\n")
    followups = tmp_path / "followups.csv"
    followups.write_text("response_id,contacted_at,closed_at,team,note\n"
                         "d1,2026-10-02T09:00:00Z,,baggage,called back\n"
                         ",2026-10-02T09:00:00Z,,,\n"
                         "d2,yesterday,,,\n"
                         "d3,2026-10-05T09:00:00Z,2026-10-04T09:00:00Z,,\n")
    results = extract_surveys(con, [answers], run_id="r1", followups=followups)
    loops = results[-1]
    assert (loops.table, loops.read, loops.loaded, loops.quarantined) == ("raw.survey_followups", 4, 1, 3)
    assert set(loops.reasons) == {"missing response_id", "unparseable contacted_at", "closed_at before contacted_at"}
    followups.write_text("response_id,contacted_at,closed_at,team,note\n"
                         "d1,2026-10-02T09:00:00Z,2026-10-04T12:00:00Z,baggage,refund issued\n")
    loops = extract_surveys(con, [answers], run_id="r2", followups=followups)[-1]
    assert (loops.inserted, loops.updated) == (0, 1)
    assert con.execute("select closed_at::varchar, team from raw.survey_followups").fetchall() == [
        ("2026-10-04 12:00:00+00", "baggage")]


def test_forgetting_a_respondent_removes_their_answers_and_they_never_load_again(con, tmp_path):
    from socialcx.governance.privacy import forget_author

    path = tmp_path / "nps.csv"
    path.write_text(HEADER + "a1,SkyLarkAir,C1,,,9,,2026-10-01T09:00:00Z,order\n"
                             "a2,SkyLarkAir,,,only.mail@example.com,3,,2026-10-01T10:00:00Z,order\n"
                             "a3,SkyLarkAir,C3,,,8,,2026-10-01T11:00:00Z,order\n")
    followups = tmp_path / "followups.csv"
    followups.write_text("response_id,contacted_at,closed_at,team,note\na2,2026-10-02T09:00:00Z,,,\n")
    extract_surveys(con, [path], run_id="r1", followups=followups)
    assert forget_author(con, "C1").survey_responses == 1
    erasure = forget_author(con, "someone", emails=["Only.Mail@example.com"])
    assert erasure.survey_responses == 1
    assert con.execute("select response_id from raw.survey_responses").fetchall() == [("a3",)]
    assert con.execute("select count(*) from raw.survey_followups").fetchone() == (0,)
    path.write_text(path.read_text() + "a4,SkyLarkAir,C4,,,10,,2026-10-02T11:00:00Z,order\n")  # a new export
    [result] = extract_surveys(con, [path], run_id="r2")
    assert (result.read, result.erased, result.inserted) == (4, 2, 1)
    assert con.execute("select response_id from raw.survey_responses order by 1").fetchall() == [("a3",), ("a4",)]
