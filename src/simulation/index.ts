export { CITIES, type City } from "./cities.js";
export { findCity, readingAt, tickAt } from "./weather-model.js";
