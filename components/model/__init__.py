"""The model layer: what one team's model gets in one environment."""
