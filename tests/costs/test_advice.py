"""The other capacity mode and table class, and advice in both directions."""

from dataclasses import replace
from decimal import Decimal

import pytest

from costs.advice import (
    capacity_mode_advice,
    comparison,
    ia_break_even_ratio,
    recommendations,
    streams_advice,
    table_class_advice,
)
from costs.estimate import estimate
from costs.inputs import Inputs

SEED = Inputs(monthly_transactions=1_000_000, queries_per_transaction=Decimal("5.2"), retention_days=90)


@pytest.mark.parametrize(
    ("current", "by_mode", "advice", "saving"),
    [
        (
            "on_demand",
            {"on_demand": Decimal(10), "provisioned": Decimal(7)},
            "Switch to provisioned capacity at 50% average utilisation: saves $3.00 a month "
            "(provisioned pays off above 28.9% utilisation).",
            Decimal(3),
        ),
        (
            "on_demand",
            {"on_demand": Decimal(7), "provisioned": Decimal(10)},
            "Stay on on-demand: provisioned capacity at 50% utilisation would cost $3.00 more a month "
            "(it pays off above 28.9% utilisation).",
            Decimal(0),
        ),
        (
            "provisioned",
            {"on_demand": Decimal(7), "provisioned": Decimal(10)},
            "Switch to on-demand: saves $3.00 a month; provisioned capacity at 50% utilisation is below the "
            "28.9% break-even.",
            Decimal(3),
        ),
        (
            "provisioned",
            {"on_demand": Decimal(10), "provisioned": Decimal(7)},
            "Stay on provisioned capacity: on-demand would cost $3.00 more a month at 50% utilisation "
            "(break-even 28.9%).",
            Decimal(0),
        ),
    ],
)
def test_capacity_mode_advice_in_both_directions(current, by_mode, advice, saving):
    recommendation = capacity_mode_advice(replace(SEED, capacity_mode=current), by_mode)

    assert (recommendation.key, recommendation.advice, recommendation.monthly_saving) == (
        "capacity_mode",
        advice,
        saving,
    )


@pytest.mark.parametrize(
    ("current", "by_class", "start", "saving"),
    [
        ("standard", {"standard": Decimal(10), "standard_ia": Decimal(8)}, "Switch the tables to Standard-IA", 2),
        ("standard", {"standard": Decimal(8), "standard_ia": Decimal(10)}, "Stay on Standard: Standard-IA", 0),
        ("standard_ia", {"standard": Decimal(8), "standard_ia": Decimal(10)}, "Switch the tables to Standard:", 2),
        ("standard_ia", {"standard": Decimal(10), "standard_ia": Decimal(8)}, "Stay on Standard-IA: Standard", 0),
    ],
)
def test_table_class_advice_in_both_directions(current, by_class, start, saving):
    recommendation = table_class_advice(replace(SEED, table_class=current), by_class)

    assert recommendation.advice.startswith(start)
    assert recommendation.advice.endswith("(Standard-IA pays off when storage costs more than 0.42x the throughput).")
    assert recommendation.monthly_saving == saving


def test_standard_ia_pays_off_when_storage_outweighs_throughput_by_the_price_ratios():
    # Standard-IA throughput costs 1.25x, storage 0.4x: it pays off above 0.25 / 0.6 = 0.4167.
    assert ia_break_even_ratio(SEED).quantize(Decimal("0.0001")) == Decimal("0.4167")


def test_the_stream_is_advised_only_when_it_costs_something():
    assert streams_advice(Decimal(0)) is None
    advice = streams_advice(Decimal("1.50"))
    assert advice.key == "streams" and advice.monthly_saving == Decimal("1.50")
    assert "Lambda trigger" in advice.advice and "(saves $1.50)" in advice.advice


def test_recommendations_are_capacity_mode_then_table_class_then_the_stream():
    modes = {"on_demand": Decimal(10), "provisioned": Decimal(7)}
    classes = {"standard": Decimal(10), "standard_ia": Decimal(12)}

    quiet = recommendations(SEED, by_mode=modes, by_class=classes, streams=Decimal(0))
    streaming = recommendations(SEED, by_mode=modes, by_class=classes, streams=Decimal("1.50"))

    assert [advice.key for advice in quiet] == ["capacity_mode", "table_class"]
    assert [advice.key for advice in streaming] == ["capacity_mode", "table_class", "streams"]


@pytest.mark.parametrize(("throughput", "ratio"), [(Decimal(4), Decimal("0.25")), (Decimal(0), None)])
def test_comparison_sets_both_modes_and_classes_beside_their_break_even(throughput, ratio):
    result = comparison(
        SEED,
        by_mode={"on_demand": Decimal(10), "provisioned": Decimal(7)},
        by_class={"standard": Decimal(10), "standard_ia": Decimal(12)},
        throughput=throughput,
        storage=Decimal(1),
    )

    assert result["capacity_mode"]["on_demand"] == 10 and result["capacity_mode"]["provisioned"] == 7
    assert result["capacity_mode"]["utilisation"] == Decimal("0.5")
    assert result["table_class"]["standard"] == 10 and result["table_class"]["standard_ia"] == 12
    assert result["table_class"]["storage_to_throughput"] == ratio


def test_a_busy_table_is_advised_provisioned_capacity_and_an_idle_one_on_demand():
    busy = estimate(SEED)
    idle = estimate(replace(SEED, utilisation=Decimal("0.2")))
    provisioned_idle = estimate(replace(SEED, capacity_mode="provisioned", utilisation=Decimal("0.2")))

    assert busy.recommendations[0].key == "capacity_mode" and busy.recommendations[0].monthly_saving > 0
    assert "Switch to provisioned" in busy.recommendations[0].advice
    assert idle.recommendations[0].monthly_saving == 0 and "Stay on on-demand" in idle.recommendations[0].advice
    assert "Switch to on-demand" in provisioned_idle.recommendations[0].advice
    assert provisioned_idle.recommendations[0].monthly_saving > 0


def test_standard_ia_is_advised_when_storage_outweighs_throughput_and_not_otherwise():
    hot = estimate(SEED)
    cold = estimate(Inputs(monthly_transactions=1_000_000, queries_per_transaction=Decimal(0), retention_days=3650))

    assert "Stay on Standard" in hot.recommendations[1].advice
    assert "Switch the tables to Standard-IA" in cold.recommendations[1].advice
    assert cold.recommendations[1].monthly_saving == (
        cold.comparison["table_class"]["standard"] - cold.comparison["table_class"]["standard_ia"]
    )
