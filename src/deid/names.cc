#include "deid/names.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <unordered_set>
#include <vector>

#include "common/strings.h"
#include "deid/name_lists.h"

namespace medscribe::deid {
namespace {

// Given names: common English-language given names and those of the populations a hospital in
// the United States or Taiwan serves (European, Latin American, South and East Asian, African,
// Middle Eastern), romanized. Romanized Chinese given names ("Mei-Ling") are recognized by shape
// in text_deid.cc instead.
constexpr const char* kGivenNames =
    "Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty "
    "Margaret Sandra Ashley Kimberly Emily Donna Michelle Amanda Dorothy Melissa Deborah Stephanie "
    "Rebecca Sharon Laura Cynthia Kathleen Amy Angela Shirley Anna Brenda Pamela Emma Nicole Helen "
    "Samantha Katherine Christine Debra Rachel Carolyn Janet Catherine Maria Heather Diane Ruth "
    "Julie Olivia Joyce Victoria Kelly Lauren Christina Joan Evelyn Judith Megan Andrea Cheryl "
    "Hannah Jacqueline Martha Gloria Teresa Sara Frances Kathryn Janice Abigail Alice Judy Sophia "
    "Denise Doris Marilyn Danielle Beverly Isabella Theresa Diana Natalie Brittany Charlotte Marie "
    "Kayla Alexis Lori Agnes Ingrid Siobhan Harper Chloe Zoe Nora Aurora Leah Stella Priya Hana "
    "Lucia Fatima Aisha Yuki Sakura Anya Olga Svetlana Natasha Elena Irina Greta Astrid Freya "
    "Sofia "
    "Camila Valentina Gabriela Isabel Carmen Rosa Lucy Eleanor Edith Mildred Gladys Bernice Ethel "
    "Florence Irene Lois Marjorie Norma Phyllis Rita Vera Wanda Yvonne Colleen Maureen Bridget "
    "Niamh Aoife Deirdre Fiona Moira Eileen Claire Genevieve Josephine Louise Beatrice Henrietta "
    "Matilda Penelope Rosalind Tabitha Ursula Wilhelmina Yolanda Zelda Gwendolyn Imogen Juliet "
    "Miriam Naomi Esther Rivka Shoshana Leila Yasmin Zainab Amira Noor Layla Mariam Ananya Deepika "
    "Kavya Lakshmi Sunita Anjali Pooja Meera Keiko Yoko Haruka Aiko Minji Jiwoo Seoyeon Linh Thuy "
    "Ngoc Marisol Guadalupe Ximena Paola Daniela Adriana Alejandra Beatriz Ines Renee Agatha "
    "Adelaide Albertine Alma Antonia Bettina Brigitte Cecilia Celeste Clara Claudia Constance "
    "Cordelia Dagmar Delia Dolores Dora Edna Elise Eloise Elsa Emilia Erika Estelle Eugenia Eva "
    "Felicity Flora Francesca Frieda Georgina Gertrude Hilda Hildegard Ida Ilse Inga Isadora "
    "Jolene "
    "Josefina Kirsten Lena Leonora Liesel Lorraine Lucille Lydia Mabel Magdalena Marcella "
    "Margarita "
    "Mathilde Maxine Mercedes Minerva Myrtle Nadia Nell Nina Odette Ophelia Petra Philippa "
    "Priscilla Rosemary Roxanne Sabine Selma Sybil Sylvia Thelma Ulrike Vivian Wilma Winifred Zora "
    "Tamara Tatiana Ludmila Galina Nadezhda Oksana Yulia Darya Anastasia Ekaterina Marina Larisa "
    "Alla Zofia Agnieszka Katarzyna Malgorzata Ewa Krystyna Magda Hanna Jadwiga Danuta Halina "
    "Beata "
    "Dorota Jolanta Renata Marguerite Amelie Celine Chantal Colette Dominique Elodie Gisele Helene "
    "Josette Lucienne Madeleine Monique Nathalie Odile Pascale Simone Solange Sylvie Yvette Giulia "
    "Chiara Federica Alessandra Giovanna Lorenza Rosalia Serena Concetta Graziella Annunziata "
    "Ivana "
    "Jelena Milica Dragana Snezana Zsofia Katalin Eszter Ildiko Ingeborg Sigrid Solveig Maja Elin "
    "Annika Linnea Saoirse Mairead Roisin Caoimhe Sinead Grainne Bronwen Rhiannon Carys Eira Siân "
    "Nia Tegan Keira Kiara Kendra Latoya Keisha Tanisha Shanice Ebony Imani Aaliyah Zuri Amani "
    "Chiamaka Ngozi Adaeze Folake Yetunde Abena Akosua Ama Wanjiku Njeri Aylin Elif Zeynep Fatma "
    "Emine Ayse Hatice Merve Shirin Parisa Maryam Nasrin Farah Rania Dalia Salma Hiba Lina Rana "
    "Yara Deepa Divya Nisha Rekha Savita Shanti Usha Vandana Aditi Ishita Kriti Neha Riya Shreya "
    "Tanvi Mio Rin Emi Naoko Tomoko Yumiko Akiko Michiko Sachiko Kazuko Haeun Jisu Eunji Soyeon "
    "Yuna Nhung Huong Trang Phuong Hoa Hanh Tuyet Anh James Robert John Michael David William "
    "Richard Joseph Thomas Christopher Charles Daniel Matthew Anthony Donald Steven Paul Andrew "
    "Joshua Kenneth Kevin Brian George Timothy Ronald Edward Jason Jeffrey Ryan Jacob Gary "
    "Nicholas "
    "Eric Jonathan Stephen Larry Justin Scott Brandon Benjamin Samuel Gregory Alexander Patrick "
    "Dennis Jerry Tyler Aaron Jose Adam Nathan Henry Douglas Zachary Peter Kyle Noah Ethan Jeremy "
    "Walter Keith Roger Terry Sean Gerald Carl Harold Dylan Arthur Lawrence Jesse Bryan Billy "
    "Bruce "
    "Gabriel Joe Logan Alan Juan Albert Willie Elijah Wayne Randy Vincent Mason Roy Ralph Bobby "
    "Russell Bradley Philip Eugene Louis Harry Howard Fred Stanley Leonard Tobias Bartholomew "
    "Hollis Ignatius Cornelius Barnaby Rupert Percival Reginald Clarence Mortimer Ambrose Lucas "
    "Owen Caleb Isaac Levi Wyatt Gavin Aarav Kenji Mateo Omar Dmitri Sergei Ivan Mikhail Vladimir "
    "Yusuf Ahmed Mohammed Muhammad Hassan Hussein Karim Tariq Rajesh Arjun Vikram Sanjay Rahul "
    "Amit "
    "Hiroshi Takeshi Kenta Haruto Minho Jisoo Seojun Duc Minh Quang Huy Alejandro Santiago Diego "
    "Javier Carlos Miguel Luis Jorge Pedro Rafael Fernando Ricardo Eduardo Sebastian Matthias "
    "Lukas "
    "Jonas Felix Maximilian Johann Henrik Lars Sven Nils Anders Pierre Jacques Antoine Etienne "
    "Giovanni Giuseppe Marco Luca Matteo Francesco Stefano Kwame Kofi Chinedu Oluwaseun Emeka "
    "Tunde "
    "Abdul Ibrahim Moses Solomon Elias Ezra Gideon Malachi Silas Otis Virgil Clyde Floyd Lloyd "
    "Herbert Warren Leroy Calvin Marvin Melvin Alvin Edwin Irving Seymour Sheldon Murray Abraham "
    "Alfred Alfonso Alonzo Anton Archibald August Augustus Barnabas Benedict Bernard Boris Casimir "
    "Cecil Cedric Clement Conrad Cyril Desmond Dominic Edgar Edmund Elmer Emil Emmanuel Ernest "
    "Erwin Eustace Ferdinand Francis Franz Frederick Gilbert Gottfried Gustav Horace Horatio "
    "Hubert "
    "Hugo Ignacio Isidore Jasper Jerome Julius Konrad Laszlo Leopold Lionel Lorenzo Ludwig Magnus "
    "Manfred Manuel Marcel Mattias Maurice Milton Mordecai Nikolai Oscar Oswald Otto Pavel Quentin "
    "Raimund Randolph Raphael Reinhard Roderick Rudolph Rufus Salvatore Sigmund Sylvester Thaddeus "
    "Theodore Tiberius Tomas Ulrich Urban Valentin Viktor Vilhelm Waldemar Wendell Wilfred "
    "Wolfgang "
    "Xavier Zbigniew Andrzej Krzysztof Piotr Tomasz Pawel Marcin Michal Grzegorz Jerzy Tadeusz "
    "Wojciech Jakub Mateusz Bartosz Kamil Lukasz Aleksandr Alexei Andrei Anatoly Arkady Evgeny "
    "Gennady Grigory Igor Ilya Konstantin Leonid Maxim Nikita Oleg Pyotr Roman Ruslan Stanislav "
    "Vadim Valery Vasily Yaroslav Yuri Fyodor Zoltan Istvan Gabor Janos Ferenc Attila Miklos "
    "Sandor "
    "Tibor Gunnar Olav Bjorn Erik Haakon Leif Ragnar Sigurd Torsten Ulf Axel Dieter Gerhard Helmut "
    "Jurgen Klaus Rainer Uwe Werner Wilhelm Florian Jannik Niklas Aurelien Baptiste Benoit Damien "
    "Fabien Francois Gaspard Guillaume Julien Laurent Lucien Mathieu Olivier Remi Thibault Yannick "
    "Alessandro Alberto Angelo Carlo Claudio Emanuele Enrico Fabrizio Gianluca Massimo Paolo "
    "Riccardo Roberto Sergio Vittorio Aleksandar Dragan Goran Milan Nikola Zoran Dusan Emre Mehmet "
    "Mustafa Murat Burak Kemal Cem Arash Dariush Farid Kamran Mehdi Reza Saeed Amir Bilal Faisal "
    "Hamza Imran Irfan Khalid Nadeem Rashid Salman Usman Zubair Waleed Youssef Ziad Samir Nabil "
    "Walid Anil Ashok Deepak Ganesh Harish Manoj Mukesh Naveen Pradeep Prakash Ramesh Sunil Suresh "
    "Vijay Vinod Rohan Karan Nikhil Siddharth Varun Aditya Akira Daisuke Kazuki Kenichi Makoto "
    "Masato Naoki Ryota Satoshi Shota Takumi Yusuke Yuto Hyun Jaehyun Junho Minjun Seungho Sungmin "
    "Taeyang Dong Hieu Khanh Long Nam Phuc Tuan Vinh Adebayo Babatunde Chidi Chukwuemeka Femi "
    "Ikechukwu Kayode Nnamdi Obinna Segun Yaw Kwabena Kojo Jomo Kamau Njoroge Otieno Thabo Sipho "
    "Themba "
    // Given names common among African Americans.
    "Jamal Jamar Malik Darnell Tyrone Terrell Demetrius Marquis Deshawn DeShawn Jermaine Lamar "
    "Rashad Tariq Kareem Darius Dante Andre Reginald Cedric Terrence Lamont Quentin Devonte "
    "Tamika Latoya Lakisha Shaniqua Aaliyah Imani Jasmine Tanisha Shanice Tiana Kiara "
    "Latisha Monique Shanelle Dominique Jada Nia Aisha Ayana Tameka Yolanda "
    // Given names common among Hispanic Americans.
    "Yesenia Yadira Maricela Araceli Xochitl Itzel Yaretzi Nayeli Esmeralda "
    // Nicknames and diminutives, as relatives are called in notes.
    "Jenny Katie Becky Patty Liz Beth Meg Maggie Debbie Cathy Kathy Sally Molly Annie Tommy "
    "Jimmy Danny Johnny Benny Kenny Timmy Joey Charlie Freddie Eddie Ronnie Stevie Vicky Nicky "
    "Abby Tina Mandy Cindy Wendy Peggy Dotty Trudy Suzy Lizzie Ellie Millie Hattie Mattie Lottie "
    "Nellie Bernie Archie Ollie Alfie Bobbie Chrissy Missy Mindy Bess Bessie Betsy Libby "
    "Tess Tessa Trish Deb Barb Jen Jenn Kat Kate Kathy Sam "
    "Sammy Mikey Ricky Rick Bob Rob Robbie Bert Hank Ted Teddy "
    "Ned Nate Zach Zack Jake Josh Matt Nick Pete Phil Steve Tony Vince Walt Wally "
    // Given names of children born after 2000.
    "Kaylee Kayleigh Brayden Jayden Aiden Ayden Caden Kaden Hayden Braxton Paisley Brooklyn "
    "Addison Harper Aubrey Avery Peyton Payton Riley Reagan Mackenzie Makayla Kinsley Nevaeh "
    "Jaylen Jaylin Jaxon Jaxson Maddox Easton Colton Bentley Greyson Grayson Ryder Kason Kyrie "
    "Khloe Chloe Zoey Zoe Emery Emersyn Everly Oakley Ryleigh Raelynn Adalynn Brynlee Serenity "
    "Aaliyah Ximena Camila Valentina Mateo Santiago Thiago Matteo Liam Noah Elijah Oliver "
    // Given names of patients born before 1950.
    "Harriet Eunice Beulah Velma Wilbur Clifford Roscoe Percy Merle Vernon Loretta Imogene Cora "
    "Della Etta Fannie Flossie Inez Lela Lula Maude Minnie Nettie Verna Zelma Opal Hazel Blanche "
    "Homer Chester Geneva Augusta Lowell Viola Ada Ola ";

// Surnames, the same populations.
constexpr const char* kSurnames =
    "Smith Johnson Williams Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez "
    "Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores "
    "Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans "
    "Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers "
    "Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson "
    "Watson Brooks Chavez Wood Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders "
    "Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman "
    "Butler "
    "Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton "
    "Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran "
    "Medina "
    "Aguilar Stevens Murray Ford Castro Marshall Owens Harrison Fernandez McDonald Woods "
    "Washington "
    "Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson "
    "Porter "
    "Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer Wagner "
    "Black "
    "Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson "
    "Nichols Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold "
    "Pierce Vazquez Hansen Peters Santos Hart Bradley Knight Elliott Cunningham Duncan Armstrong "
    "Hudson Carroll Lane Riley Andrews Alvarado Ray Delgado Berry Perkins Hoffman Johnston "
    "Matthews "
    "Pena Richards Contreras Willis Carpenter Lawrence Sandoval Guerrero George Chapman Rios "
    "Estrada Ortega Watkins Greene Nunez Wheeler Valdez Harper Burke Larson Santiago Maldonado "
    "Morrison Franklin Carlson Austin Dominguez Carr Lawson Jacobs O'Brien Lynch Singh Vega Bishop "
    "Montgomery Oliver Jensen Harvey Williamson Gilbert Dean Sims Espinoza Howell Li Wong Reid "
    "Hanson Le McCoy Garrett Burton Fuller Wang Weber Welch Rojas Lucas Marquez Fields Park Yang "
    "Little Banks Padilla Day Walsh Bowman Schultz Luna Fowler Mejia Davidson Acosta Brewer May "
    "Holland Juarez Newman Pearson Curtis Cortez Douglas Schneider Joseph Barrett Navarro Figueroa "
    "Keller Avila Wade Molina Stanley Hopkins Campos Barnett Bates Chambers Caldwell Beck Lambert "
    "Miranda Byrd Craig Ayala Lowe Frazier Powers Neal Leonard Gregory Carrillo Sutton Fleming "
    "Rhodes Shelton Schwartz Norris Jennings Watts Duran Walters Cohen McDaniel Moran Parks Steele "
    "Vaughn Becker Holt Deleon Barker Terry Hale Leon Benson Haynes Horton Miles Lyons Pham Graves "
    "Bush Thornton Wolfe Warner Cabrera McKinney Mann Zimmerman Dawson Lara Fletcher Page McCarthy "
    "Love Robles Cervantes Solis Erickson Reeves Chang Klein Salinas Fuentes Baldwin Daniel Simon "
    "Velasquez Hardy Higgins Aguirre Lin Cummings Chandler Sharp Barber Bowen Ochoa Dennis Robbins "
    "Liu Ramsey Francis Griffith Paul Blair O'Connor Cardenas Pacheco Cross Calderon Quinn Moss "
    "Swanson Chan Rivas Khan Rodgers Serrano Fitzgerald Rosales Stevenson Christensen Manning Gill "
    "Curry McLaughlin Harmon McGee Gross Doyle Garner Newton Burgess Reese Walton Blake Trujillo "
    "Adkins Brady Goodman Roman Webster Goodwin Fischer Huang Potter Delacruz Montoya Todd Wu "
    "Hines "
    "Mullins Castaneda Malone Cannon Tate Mack Sherman Hubbard Hodges Zhang Guerra Wolf Valencia "
    "Saunders Franco Rowe Gallagher Farmer Hammond Hampton Townsend Ingram Wise Gallegos Clarke "
    "Barton Schroeder Maxwell Waters Logan Camacho Strickland Norman Person Colon Parsons Frank "
    "Harrington Glover Osborne Buchanan Casey Floyd Patton Ibarra Ball Tyler Suarez Bowers Orozco "
    "Salas Cobb Gibbs Andrade Bauer Conner Moody Escobar McGuire Lloyd Mueller Hartman French "
    "Kramer McBride Pope Lindsey Velazquez Norton McCormick Sparks Flynn Yates Hogan Marsh Macias "
    "Villanueva Zamora Pratt Stokes Owen Ballard Lang Brock Villarreal Charles Drake Barrera Cain "
    "Patrick Pineda Burnett Mercado Santana Shepherd Bautista Ali Shaffer Lamb Trevino McKenzie "
    "Hess Olsen Cochran Morton Nash Wilkins Petersen Briggs Shah Roth Nicholson Holloway Lozano "
    "Rangel Flowers Hoover Short Arias Mora Valenzuela Bryan Meyers Weiss Underwood Bass Greer "
    "Summers Houston Carson Morrow Clayton Whitaker Decker Yoder Collier Zuniga Carey Wilcox "
    "Melendez Poole Roberson Larsen Conley Davenport Copeland Massey Lam Huff Rocha Cameron "
    "Jefferson Hood Monroe Anthony Pittman Huynh Randall Singleton Kirk Combs Mathis Christian "
    "Skinner Bradford Richard Galvan Wall Boone Kirby Wilkinson Bridges Bruce Atkinson Velez Meza "
    "Roy Vincent York Hodge Villa Abbott Allison Tapia Gates Chase Sosa Sweeney Farrell Wyatt "
    "Dalton Horn Barron Phelps Yu Dickerson Heath Foley Atkins Mathews Bonilla Acevedo Benitez "
    "Zavala Hensley Glenn Cisneros Harrell Shields Rubio Huffman Choi Boyer Garrison Arroyo Bond "
    "Kane Hancock Callahan Dillon Cline Wiggins Grimes Arellano Melton O'Neill Savage Ho Beltran "
    "Pitts Parrish Ponce Rich Booth Koch Golden Ware Brennan McDowell Marks Cantu Humphrey Baxter "
    "Sawyer Clay Tanner Hutchinson Kaur Berg Wiley Gilmore Russo Villegas Hobbs Keith Wilkerson "
    "Ahmed Beard McClain Montes Mata Rosario Vang Walter Henson O'Neal Mosley McClure Beasley "
    "Stephenson Snow Huerta Preston Vance Barry Johns Eaton Blackwell Dyer Prince Macdonald "
    "Solomon "
    "Guevara Stafford English Hurst Woodard Cortes Shannon Kemp Nolan McCullough Merritt Murillo "
    "Moon Salgado Strong Kline Cordova Barajas Roach Rosas Winters Jacobson Lester Knox Bullock "
    "Kerr Leach Meadows Davila Orr Whitehead Pruitt Kent Conway McKee Barr David Marin Berger "
    "McIntyre Blankenship Gaines Palacios Cuevas Bartlett Durham Dorsey McCall O'Donnell Stein "
    "Browning Stout Lowery Sloan McLean Hendricks Calhoun Sexton Chung Gentry Hull Duarte Ellison "
    "Nielsen Gillespie Buck Middleton Sellers Leblanc Esparza Hardin Bradshaw McIntosh Howe "
    "Livingston Frost Glass Morse Knapp Herman Stark Bravo Noble Spears Weeks Corona Frederick "
    "Buckley McFarland Hebert Enriquez Hickman Quintero Randolph Schaefer Walls Trejo House Reilly "
    "Pennington Conrad Giles Crosby Fitzpatrick Donovan Mays Mahoney Valentine Raymond Medrano "
    "Hahn "
    "McMillan Small Bentley Felix Peck Lucero Boyle Hanna Pace Rush Hurley Harding McConnell "
    "Bernal "
    "Nava Ayers Everett Ventura Avery Pugh Mayer Bender Shepard McMahon Landry Case Sampson Moses "
    "Magana Blackburn Dunlap Gould Duffy Vaughan Herring McKay Espinosa Rivers Farley Bernard "
    "Friedman Potts Truong Costa Correa Blevins Nixon Clements Fry Best Benton Lugo Portillo "
    "Dougherty Crane Haley Phan Villalobos Blanchard Horne Finley Quintana Lynn Esquivel Bean "
    "Dodson Mullen Xiong Hayden Cano Levy Huber Richmond Moyer Lim Frye Sheppard McCarty Avalos "
    "Booker Waller Parra Woodward Jaramillo Krueger Rasmussen Brandt Peralta Donaldson Stuart "
    "Faulkner Maynard Galindo Coffey Estes Sanford Burch Maddox Vo O'Connell Vu Andersen Spence "
    "McPherson Church Schmitt Stanton Leal Cherry Compton Dudley Sierra Pollard Alfaro Hester "
    "Proctor Lu Hinton Novak Good Madden McCann Terrell Jarvis Dickson Reyna Cantrell Mayo Branch "
    "Hendrix Rollins Rowland Whitney Duke Odom Daugherty Travis Tang Whitfield Abernathy "
    "McAllister "
    "Ashworth Blackwood Cavendish Hargreaves Pemberton Thistlewood Winthrop Aldridge Atherton "
    "Bancroft Beaumont Blakely Calloway Carmichael Chadwick Cromwell Drummond Fairbanks Fairfax "
    "Fenwick Galloway Gilchrist Hathaway Kensington Lancaster Langley Lockhart Montague Radcliffe "
    "Remington Rutherford Sinclair Stirling Sutherland Thackeray Trevelyan Wetherby Whitmore "
    "Worthington Ainsworth Ashcroft Bramwell Brightwell Brockway Colquhoun Dunbar Gallacher "
    "Kirkpatrick MacGregor MacKenzie MacLeod Mackintosh McAlister McCallum McFadden McGregor "
    "McKenna McNamara Munro Ogilvie Rafferty Sheridan Tierney Kavanagh Keane Moriarty Mulligan "
    "O'Callaghan O'Donovan O'Grady O'Hara O'Keefe O'Leary O'Malley O'Reilly O'Shea O'Sullivan "
    "Quigley Flanagan Hennessy Kinsella Lennon Looney Madigan Maguire Monaghan Mooney Murtagh "
    "Phelan Regan Scanlon Whelan Kowalski Dubois Rossi Okafor Haddad Petrov Lindqvist Yamamoto "
    "Sato "
    "Tanaka Suzuki Takahashi Watanabe Ito Nakamura Kobayashi Kato Yoshida Yamada Sasaki Yamaguchi "
    "Matsumoto Inoue Kimura Hayashi Shimizu Yamazaki Mori Abe Ikeda Hashimoto Ishikawa Ogawa "
    "Fujita "
    "Okada Goto Hasegawa Murakami Kondo Ishii Saito Sakamoto Endo Aoki Fujii Nishimura Fukuda Ota "
    "Miura Fujiwara Okamoto Matsuda Nakagawa Nakano Harada Ono Tamura Takeuchi Kaneko Wada "
    "Nakayama "
    "Ishida Ueda Morita Hara Shibata Sakai Kudo Yokoyama Miyazaki Miyamoto Uchida Takagi Ando "
    "Taniguchi Ohno Maruyama Imai Fujimoto Takeda Murata Ueno Sugiyama Masuda Hirano Kojima Otsuka "
    "Chiba Kubo Matsui Iwasaki Sakurai Kinoshita Noguchi Matsuo Nomura Kikuchi Sano Onishi "
    "Sugimoto "
    "Arai Jung Kang Cho Yoon Jang Han Oh Seo Shin Kwon Hwang Ahn Song Yoo Hong Jeon Ko Son Bae "
    "Baek "
    "Heo Nam Shim Noh Kwak Sung Cha Joo Woo Koo Min Ryu Jin Chae Won Chun Bang Gong Hyun Kong Byun "
    "Yeo Choo Hoang Dang Bui Ngo Duong Ly Gupta Sharma Kumar Verma Reddy Rao Iyer Nair Menon "
    "Pillai "
    "Das Bose Banerjee Chatterjee Mukherjee Ghosh Sen Chaudhary Joshi Mehta Desai Patil Kulkarni "
    "Jain Agarwal Malhotra Kapoor Khanna Bhatia Sethi Chopra Saxena Mishra Pandey Tiwari Dubey "
    "Yadav Thakur Rathore Chauhan Hussain Rahman Hossain Siddiqui Qureshi Sheikh Malik Iqbal "
    "Chaudhry Raza Abbasi Mirza Baig Haider Naqvi Rizvi Zaidi Hashmi Ansari Kazmi Bukhari Gilani "
    "Nasser Hamdan Khoury Saleh Mansour Awad Nassar Farah Ibrahim Hassan Mahmoud Mostafa Abdallah "
    "Youssef Salem Aziz Okonkwo Adeyemi Eze Nwosu Obi Chukwu Adebayo Afolabi Balogun Ogunleye "
    "Mensah Owusu Asante Boateng Kamau Otieno Mwangi Njoroge Kariuki Dlamini Nkosi Khumalo Ndlovu "
    "Mokoena Schulz Hoffmann Richter Schroder Neumann Schwarz Zimmermann Braun Kruger Hofmann "
    "Hartmann Lange Werner Krause Meier Lehmann Schmid Schulze Maier Kohler Herrmann Konig Kaiser "
    "Fuchs Scholz Moller Vogel Friedrich Gunther Winkler Lorenz Baumann Franke Albrecht Schuster "
    "Ludwig Bohm Kraus Schumacher Vogt Jager Otto Sommer Seidel Heinrich Haas Schreiber Graf "
    "Schulte Dietrich Ziegler Kuhn Pohl Engel Busch Bergmann Voigt Sauer Wolff Pfeiffer Janssen "
    "Jansen DeVries Bakker Visser Smit Meijer Mulder Bos Vos Hendriks Dekker Brouwer Dijkstra "
    "Vermeulen Kok Willems Claes Goossens Wouters Maes Dupont Petit Durand Leroy Moreau Laurent "
    "Lefebvre Michel Bertrand Roux Fournier Morel Girard Andre Lefevre Mercier Blanc Guerin "
    "Garnier "
    "Chevalier Francois Legrand Gauthier Perrin Robin Clement Morin Nicolas Roussel Mathieu "
    "Gautier "
    "Masson Marchand Duval Denis Dumont Lemaire Noel Dufour Meunier Brun Giraud Joly Riviere "
    "Brunet "
    "Gaillard Barbier Arnaud Gerard Roche Renard Leroux Colin Vidal Caron Picard Fabre Aubert "
    "Lemoine Renaud Dumas Lacroix Olivier Philippe Bourgeois Benoit Rey Leclerc Rolland Leclercq "
    "Guillaume Lecomte Dupuy Guillot Hubert Carpentier Dupuis Moulin Deschamps Huet Vasseur "
    "Boucher "
    "Fleury Royer Jacquet Poirier Marty Aubry Guyot Renault Charpentier Menard Maillard Baron "
    "Bertin Bailly Herve Collet Leger Bouvier Julien Prevost Millet Perrot Cousin Germain Breton "
    "Besson Langlois Remy Pelletier Leveque Perrier Lebrun Marchal Mallet Hamon Boulanger Monnier "
    "Michaud Guichard Gillet Etienne Poulain Tessier Chauvin Bouchet Lemaitre Benard Marechal "
    "Humbert Reynaud Antoine Perret Barthelemy Cordier Pichon Lejeune Lamy Delaunay Pasquier "
    "Carlier Laporte Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti "
    "DeLuca Mancini Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro Mariani Rinaldi "
    "Caruso "
    "Ferrara Galli Martini Leone Longo Gentile Martinelli Vitale Lombardo Serra Coppola DeSantis "
    "Marchetti Parisi Conte Ferraro Ferri Fabbri Bianco Marini Grasso Valentini Messina Sala "
    "DeAngelis Gatti Pellegrini Palumbo Sanna Farina Rizzi Monti Cattaneo Morelli Amato Silvestri "
    "Mazza Testa Grassi Pellegrino Carbone Giuliani Benedetti Barone Rossetti Caputo Montanari "
    "Palmieri Bernardi Martino Fiore DeRosa Ferretti Bellini Basile Riva Donati Piras Vitali "
    "Battaglia Sartori Neri Costantini Milani Pagano Ruggiero Sorrentino Orlando Damiani Negri "
    "Ferreira Pereira Oliveira Rodrigues Martins Sousa Fernandes Goncalves Gomes Lopes Marques "
    "Alves Almeida Ribeiro Pinto Carvalho Teixeira Moreira Correia Mendes Nunes Soares Vieira "
    "Monteiro Cardoso Neves Coelho Cunha Pires Reis Simoes Antunes Matos Fonseca Machado Araujo "
    "Barbosa Tavares Lourenco Figueiredo Azevedo Freitas Nowak Wisniewski Wojcik Kaminski "
    "Lewandowski Zielinski Szymanski Wozniak Dabrowski Kozlowski Jankowski Mazur Kwiatkowski "
    "Krawczyk Piotrowski Grabowski Nowakowski Pawlowski Michalski Nowicki Adamczyk Dudek Zajac "
    "Wieczorek Jablonski Krol Majewski Olszewski Jaworski Wrobel Malinowski Pawlak Witkowski "
    "Walczak Stepien Gorski Rutkowski Michalak Sikora Ostrowski Baran Duda Szewczyk Tomaszewski "
    "Pietrzak Marciniak Wroblewski Zalewski Jakubowski Jasinski Zawadzki Sadowski Chmielewski "
    "Wlodarczyk Borkowski Czarnecki Sawicki Sokolowski Urbanski Kubiak Maciejewski Szczepanski "
    "Kucharski Kalinowski Mazurek Wysocki Adamski Kazmierczak Wasilewski Sobczak Czerwinski "
    "Andrzejewski Cieslak Glowacki Zakrzewski Kolodziej Sikorski Krajewski Gajewski Szymczak Szulc "
    "Baranowski Laskowski Brzezinski Makowski Ziolkowski Przybylski Ivanov Smirnov Kuznetsov Popov "
    "Vasiliev Sokolov Mikhailov Novikov Fedorov Morozov Volkov Alekseev Lebedev Semenov Egorov "
    "Pavlov Kozlov Stepanov Nikolaev Orlov Andreev Makarov Nikitin Zakharov Zaitsev Soloviev "
    "Borisov Yakovlev Grigoriev Romanov Vorobiev Sergeev Kuzmin Frolov Alexandrov Dmitriev Korolev "
    "Gusev Kiselev Ilyin Maksimov Polyakov Sorokin Vinogradov Kovalev Belov Medvedev Antonov "
    "Tarasov Zhukov Baranov Filippov Komarov Davydov Belyaev Gerasimov Bogdanov Osipov Sidorov "
    "Matveev Titov Markov Mironov Krylov Kulikov Karpov Vlasov Melnikov Denisov Gavrilov Tikhonov "
    "Kazakov Danilov Timofeev Fomin Chernov Abramov Martynov Efimov Nazarov Kalinin Isaev Bykov "
    "Maslov Rodionov Konovalov Lazarev Voronin Klimov Filatov Ponomarev Golubev Kudryavtsev "
    "Prokhorov Naumov Potapov Zhuravlev Trofimov Leonov Sobolev Ermakov Kolesnikov Goncharov "
    "Emelyanov Nikiforov Kotov Grishin Efremov Arkhipov Gromov Kirillov Malyshev Panov Moiseev "
    "Akimov Biryukov Gorbunov Anisimov Eremin Galkin Lukyanov Skvortsov Yudin Belousov Nesterov "
    "Simonov Kharitonov Knyazev Tsvetkov Levin Voronov Aksenov Maltsev Loginov Savin Krasnov "
    "Demidov Eliseev Rybakov Safonov Demin Fadeev Ignatov Litvinov Ershov Ushakov Ryabov Mukhin "
    "Kalashnikov Lobanov Borodin Platonov Nekrasov Bobrov Zhdanov Drozdov Lavrov Zuev Petukhov "
    "Larin Serov Zotov Ustinov Fokin Samoilov Sakharov Shishkin Cherkasov Nosov Vorontsov Zverev "
    "Seleznev Sedov Golovin Terekhov Ulyanov Shestakov Gordeev Zimin Kostin Suvorov Kornilov "
    "Gorbachev Lukin Tokarev Bolshakov Rodin Kovalenko Shevchenko Bondarenko Tkachenko Kravchenko "
    "Oliynyk Marchenko Lysenko Rudenko Savchenko Petrenko Horvath Kovacs Toth Szabo Nagy Varga "
    "Kiss "
    "Molnar Nemeth Farkas Balogh Papp Takacs Juhasz Lakatos Meszaros Olah Racz Fekete Andersson "
    "Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson Gustafsson Pettersson "
    "Jonsson Jansson Hansson Bengtsson Lindberg Jakobsson Magnusson Lindstrom Olofsson Lindgren "
    "Axelsson Bergstrom Lundberg Lind Lundgren Lundqvist Mattsson Berglund Fredriksson Sandberg "
    "Henriksson Forsberg Sjoberg Wallin Engstrom Eklund Danielsson Lundin Hakansson Bjork Bergman "
    "Gunnarsson Holm Wikstrom Samuelsson Isaksson Fransson Bergqvist Nystrom Holmberg Arvidsson "
    "Lofgren Soderberg Nyberg Blomqvist Claesson Nordstrom Johansen Pedersen Nilsen Kristiansen "
    "Karlsen Johnsen Pettersen Eriksen Haugen Hagen Johannessen Andreassen Jacobsen Dahl Jorgensen "
    "Halvorsen Henriksen Lund Sorensen Jakobsen Moen Gundersen Iversen Strand Solberg Svendsen "
    "Eide "
    "Knutsen Martinsen Paulsen Bakken Kristoffersen Mathisen Amundsen Lunde Solheim Berge Nygard "
    "Bakke Kristensen Fredriksen Lien Hauge Knudsen Evensen Myhre Virtanen Korhonen Nieminen "
    "Makinen Hamalainen Laine Heikkinen Koskinen Jarvinen Lehtonen Lehtinen Saarinen Salminen "
    "Heinonen Niemi Kinnunen Salonen Turunen Jokinen Papadopoulos Georgiou Dimitriou Nikolaou "
    "Konstantinou Ioannou Christodoulou Vlachos Angelopoulos Pappas Yilmaz Kaya Demir Sahin Celik "
    "Yildiz Yildirim Ozturk Aydin Ozdemir Arslan Dogan Kilic Aslan Cetin Kara Koc Kurt Ozkan "
    "Simsek "
    "Levi Mizrahi Peretz Biton Katz Shapiro Goldberg Rosenberg Goldstein Weinberg Rosen Feldman "
    "Kaplan Adler Hirsch Blum Stern Lieberman Epstein Horowitz Abramson Abramowitz Bernstein "
    "Silverman Greenberg Rubin Segal ";

// Dictionary names that are also common English words or places that may stand capitalized at
// the start of a sentence or in a heading ("May", "Will", "Long", "Park", "Virginia"): a name only
// next to another name, never alone.
constexpr const char* kAlsoWords =
    // Eponyms that name a device or a manoeuvre even alone ("changed the Foley", "Apgars 8 and 9").
    "Foley Apgar Apgars Glasgow Valsalva Heimlich Trendelenburg Kerley Hickman Groshong Penrose "
    "Bovie Seldinger Doppler Holter Yankauer Tenckhoff Broviac Quinton "
    "Foster Opal Hazel Blanche Homer Chester Geneva Augusta Lowell Viola Ada Ola Addison Harper "
    "Avery "
    "May June April August Will Mark Bill Grace Hope Faith Joy Rose Lily Iris Ivy Dawn Summer "
    "Autumn Art Frank Sue Pat Don Ray Gene Carol Max Jack Sage Hunter Chase Ruby Amber Crystal "
    "Pearl Violet Olive Jasmine Destiny Harmony Angel Page Bell Rich Jean Lane Dale Glen Glenn Guy "
    "Miles Rod Sandy Drew Dean Grant Hardy Heath Penny Robin Sky Star Storm Wade Cliff Brook Lee "
    "Major Prince King Duke Royal True Marshall Justice Christian Norman Earl Long Young White "
    "Black "
    "Green Brown Gray Grey Hill Wood Woods Stone Price Ward Small Strong Love Best Good Short "
    "Church "
    "House Branch Case Golden Glass Frost Snow Moon Day Cross Wall Walls Bond Hood Mann Person "
    "English French Noble Rush Pace Bass Knight Fields Banks Parks Mills Rivers Waters Powers "
    "Sparks "
    "Flowers Bridges Meadows Winters Summers Ball Sharp Cole West Hunt Fox Wolf Wolfe Beck Lamb "
    "Roach "
    "Bean Crane Bishop Turner Cook Baker Carpenter Mason Farmer Potter Fisher Miller Walker Porter "
    "Barber Taylor Carter Weaver Tucker Park Little Hall Kelly Mayo Berry Lowe Cherry Buck Rice "
    "Clay Blanc Brun Petit Bruno Testa Riva Villa Sala Serra Costa Cruz Luna Rosa Santos Reis "
    "Neves Cunha Mora Vega Leon Lang Graf Engel Otto Kaiser Koch Berg Lind Holm Dahl Strand Moen "
    "Eide Lunde Berge Moe Aas Lie Hagen Sen Das Roy Jain Shah Malik Kara Kurt Stern Rosen Blum "
    "Adler Hirsch Hale Noel Colin Lucas Marin Paris Jordan Austin Houston Virginia Georgia "
    "Carolina "
    "Dakota Montana Florence Victoria Charlotte Madison Lincoln Jackson Washington Chelsea Sydney "
    "Phoenix Orlando Dallas Israel India China Le Vo Vu Ly Ho Ha Ko Oh Son Nam Min Jin Won Bang "
    "Gong Han Song Kong Do Long Sung Ono Ota Abe Ito Mori Hara Kato Sato Ali Said Amir Karim "
    "Normal Regan Case Kent Nash Brock Drake Cain Pope Bush Horn Gill Yu Lu Li Wu Tang Chan Lam "
    "Lim Tran Hoang Price Sims Ellis Moss Gross Blair Cobb Marks Dyer Moody Savage Hess Brandt";

// Eponyms: surnames that name diseases, signs, devices and scores. Before a clinical noun, a
// number or a hyphenated partner ("Wilson disease", "Apgar 9", "Swan-Ganz") they are not names.
constexpr const char* kEponyms =
    "Addison Alzheimer Apgar Asperger Babinski Baker Barrett Barr Bell Bence Bishop Brown Sequard "
    "Buerger Burkitt Chiari Colles Crohn Cushing Down Dupuytren Ebstein Ehlers Danlos Epstein "
    "Ewing "
    "Fallot Foley Gleason Graves Guillain Barre Hashimoto Hirschsprung Hodgkin Horner Huntington "
    "Hunter Hurler Kaposi Kawasaki Kerley Klinefelter Korsakoff Lyme Marfan Meckel Meniere Murphy "
    "Paget Parkinson Peyronie Pott Raynaud Reiter Reye Schatzki Sjogren Smith Stevens Johnson "
    "Still "
    "Swan Ganz Takayasu Tourette Turner Virchow Willebrand Wegener Wernicke Whipple Wilms Wilson "
    "Wolff White Zenker Kussmaul Cheyne Stokes Glasgow Valsalva Heimlich Trendelenburg Fowler Sims "
    "Allen Romberg Kernig Brudzinski Homans McBurney Rovsing Chvostek Trousseau Levine Flint "
    "Graham Steell Beck Osler Janeway Roth Argyll Robertson Hutchinson Kayser Fleischer Koplik "
    "Auer "
    "Reed Sternberg Howell Jolly Heinz Mallory Weiss Boerhaave Hamman Fleischner Luschka Magendie "
    "Monro Sylvius Willis Broca Purkinje Schwann Golgi Hartmann Hickman Groshong Salem Sengstaken "
    "Blakemore Penrose Jackson Pratt Bovie Mayo Metzenbaum Kelly Allis Babcock Kocher DeBakey "
    "Pfannenstiel Bier Seldinger Nissen Billroth Roux Pringle Judkins Amplatz Greenfield Palmaz "
    "Cobb Breslow Clark Dukes Child Pugh Ranson Wells Mallampati Cormack Lehane Killip Forrester "
    "Braden Morse Norton Waterlow Barthel Karnofsky Thomas Jones Lewy Lewis Bennett Galeazzi "
    "Monteggia Maisonneuve Jefferson Hangman Chance Holstein Segond Hill Sachs Bankart Charcot "
    "Marie Tooth Duchenne Becker Gaucher Fabry Pompe Niemann Pick Tay Krabbe Hurthle Warthin "
    "Merkel Langerhans Leydig Sertoli Kupffer Wharton Stensen Eustachian Bartholin Skene Cowper "
    "Douglas Morison Hartmann Treitz Meissner Auerbach Peyer Brunner Paneth Kulchitsky Bowman "
    "Henle Malpighi Graafian Fallopian Muller Wolffian Gerota Buck Scarpa Camper Colles Poupart "
    "Hesselbach Calot Glisson Couinaud Oddi Vater Santorini Wirsung Heister Rokitansky Aschoff "
    "Bochdalek Morgagni Larrey Spigelian Richter Littre Amyand Pancoast Horner Kaposi Wilms Ewing "
    "Tinel Phalen Finkelstein Lachman McMurray Thompson Trendelenburg Patrick Gaenslen Spurling "
    "Wagner Lynch Koebner Nikolsky Braxton Hicks Tanner Denver Hampton Westermark Fleischner Adson "
    "Allen "
    "Froment Wartenberg Pell Gregory "
    "Hoffmann Clonus "
    "Gower Gowers "
    "Rinne Weber Snellen Ishihara "
    "Schirmer Seidel Tzanck Nikolsky Auspitz Koebner Darier Gottron Heliotrope Janeway Roth";

// Words after an eponym that make it a clinical term.
constexpr const char* kEponymNouns =
    "disease diseases syndrome syndromes sign signs palsy lines line catheter catheters clamp test "
    "tests score scale stage staging level class classification criteria angle position procedure "
    "operation repair fracture reflex maneuver manoeuvre tube drain needle forceps scissors "
    "retractor "
    "node nodes cells cell bodies body granules rosettes phenomenon triad law index grade type "
    "ulcer "
    "ulcers diverticulum ring rings esophagus oesophagus tumor tumour lymphoma sarcoma disorder "
    "virus "
    "valve shunt incision view views filter stent anomaly malformation lesion lesions spots spot "
    "nodule nodules sphincter duct ducts pouch space area fossa canal hernia cyst cysts disease's "
    "dementia chorea ataxia dystrophy neuroma neuralgia effect method technique solution formula "
    "equation ratio respiration respirations breathing murmur sound sounds pulse pulses gallop "
    "thyroiditis encephalopathy gland glands tubes bag bags drape coma splint splints brace collar "
    "frame traction mask syringe hump circle loop ligament ampulla islets islet foramen tetralogy "
    "triangle capsule fascia tubercle bundle plexus crypts column columns contractions fall";

// Capitalized words that are not names though a dictionary name stands before them (a given name
// before "Hospital" is an institution's, a surname before "Street" an address's).
constexpr const char* kNotNames =
    "Hospital Clinic Center Centre Medical Health University College Institute School Street "
    "Avenue Road Lane Drive Boulevard Way Court Place Park County City Memorial Foundation Church "
    "Chest Right Left Bilateral Patient Report Impression Findings History Technique Comparison "
    "Indication Procedure Disease Syndrome Sign Catheter Score Scale Stage Class Test Tube Unit "
    "Ward Room Floor Building Tower Wing Department Service Team Group Inc Ltd Corp Co LLC Hall "
    "Library Station Airport Bridge River Lake Mount Mountain Valley Heights Village Town Square "
    "MD DO RN NP PA PhD MBBS FRCP FACP FACR Jr Sr II III IV AM PM";

struct Dictionaries {
  std::unordered_set<std::string> given, surnames, also_words, eponyms, eponym_nouns, not_names;
};

void AddLower(std::unordered_set<std::string>& set, const char* words) {
  std::string w;
  for (const char* p = words;; ++p) {
    if (*p == ' ' || *p == '\0') {
      if (!w.empty()) set.insert(w);
      w.clear();
      if (*p == '\0') return;
    } else {
      w.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(*p))));
    }
  }
}

const Dictionaries& Dicts() {
  static const Dictionaries* d = [] {
    auto* out = new Dictionaries;
    AddLower(out->given, kGivenNames);
    AddLower(out->surnames, kSurnames);
    AddLower(out->also_words, kAlsoWords);
    AddLower(out->eponyms, kEponyms);
    AddLower(out->eponym_nouns, kEponymNouns);
    AddLower(out->not_names, kNotNames);
    return out;
  }();
  return *d;
}

bool Upper(char c) { return c >= 'A' && c <= 'Z'; }
bool LowerCase(char c) { return c >= 'a' && c <= 'z'; }
bool Letter(char c) { return Upper(c) || LowerCase(c); }

// The ASCII letter that a Latin letter with a diacritic (U+00C0 to U+017F: "á", "ñ", "Ł", "ş")
// stands on, in its case, or 0 for any other code point.
char BaseLetter(uint32_t cp) {
  // U+00C0..U+00FF: capitals from C0, small letters from E0, the same base letters in both.
  static constexpr char kLatin1[] = "AAAAAAACEEEEIIIIDNOOOOO\0OUUUUYTs";
  if (cp >= 0xC0 && cp <= 0xDF) return cp == 0xD7 ? 0 : kLatin1[cp - 0xC0];
  if (cp >= 0xE0 && cp <= 0xFF) {
    if (cp == 0xF7) return 0;
    if (cp == 0xFF) return 'y';
    const char c = kLatin1[cp - 0xE0];
    return c == 's' ? 's' : static_cast<char>(c - 'A' + 'a');
  }
  if (cp < 0x100 || cp > 0x17F) return 0;
  // U+0100..U+017F (Latin Extended-A): runs of one base letter, capital and small alternating.
  struct Run {
    uint32_t first, last;
    char base;
  };
  static constexpr Run kRuns[] = {
      {0x100, 0x105, 'A'}, {0x106, 0x10D, 'C'}, {0x10E, 0x111, 'D'}, {0x112, 0x11B, 'E'},
      {0x11C, 0x123, 'G'}, {0x124, 0x127, 'H'}, {0x128, 0x131, 'I'}, {0x132, 0x133, 'I'},
      {0x134, 0x135, 'J'}, {0x136, 0x138, 'K'}, {0x139, 0x142, 'L'}, {0x143, 0x14B, 'N'},
      {0x14C, 0x151, 'O'}, {0x152, 0x153, 'O'}, {0x154, 0x159, 'R'}, {0x15A, 0x161, 'S'},
      {0x162, 0x167, 'T'}, {0x168, 0x173, 'U'}, {0x174, 0x175, 'W'}, {0x176, 0x178, 'Y'},
      {0x179, 0x17E, 'Z'}, {0x17F, 0x17F, 'S'}};
  for (const Run& r : kRuns) {
    if (cp < r.first || cp > r.last) continue;
    // Capitals at even code points, except from U+0139 to U+0148 and from U+0179 on (odd).
    const bool odd_capitals = (cp >= 0x139 && cp <= 0x148) || cp >= 0x179;
    const bool capital =
        cp == 0x178 || cp == 0x130 ||
        (cp != 0x138 && cp != 0x131 && cp != 0x17F && ((cp % 2 == 1) == odd_capitals));
    return capital ? r.base : static_cast<char>(r.base - 'A' + 'a');
  }
  return 0;
}

// At byte `i` of `t`: a letter's length in bytes (1 for ASCII, 2 for a Latin letter with a
// diacritic) and its base letter in `base`; 0 when no letter starts there.
size_t LetterAt(std::string_view t, size_t i, char* base) {
  const unsigned char c = static_cast<unsigned char>(t[i]);
  if (Letter(static_cast<char>(c))) {
    *base = static_cast<char>(c);
    return 1;
  }
  if (c < 0xC3 || c > 0xC5 || i + 1 >= t.size()) return 0;
  const unsigned char c2 = static_cast<unsigned char>(t[i + 1]);
  if ((c2 & 0xC0) != 0x80) return 0;
  const char b = BaseLetter(((c & 0x1Fu) << 6) | (c2 & 0x3Fu));
  if (b == 0) return 0;
  *base = b;
  return 2;
}

// `w` with each Latin letter with a diacritic replaced by its base letter ("Tomás" -> "Tomas",
// "Łukasz" -> "Lukasz"); other bytes as they are.
std::string Fold(std::string_view w) {
  std::string out;
  out.reserve(w.size());
  for (size_t i = 0; i < w.size();) {
    char b = 0;
    const size_t n = LetterAt(w, i, &b);
    if (n == 2) {
      out += b;
      i += 2;
    } else {
      out += w[i++];
    }
  }
  return out;
}

// A word of the text: letters with inner apostrophes and hyphens ("O'Connor", "Mary-Jane").
struct Word {
  size_t begin, end;  // byte offsets
  std::string_view text;
  bool capitalized;  // "Agnes", "McAllister", "O'Connor", or all capitals ("AGNES")
};

std::vector<Word> Words(std::string_view t) {
  std::vector<Word> out;
  char b = 0;
  for (size_t i = 0; i < t.size();) {
    const size_t first = LetterAt(t, i, &b);
    if (first == 0 || (i > 0 && std::isdigit(static_cast<unsigned char>(t[i - 1])))) {
      i += first ? first : 1;
      continue;
    }
    size_t j = i + first;
    while (j < t.size()) {
      if (const size_t n = LetterAt(t, j, &b); n > 0) {
        j += n;
      } else if ((t[j] == '\'' || t[j] == '-') && j + 1 < t.size() && LetterAt(t, j + 1, &b) > 0) {
        ++j;
      } else {
        break;
      }
    }
    if (j < t.size() && std::isdigit(static_cast<unsigned char>(t[j]))) {
      i = j;  // part of a code ("T2", "C5")
      continue;
    }
    const std::string_view w = t.substr(i, j - i);
    const std::string folded = Fold(w);
    if (folded.size() == 1) {  // an initial or a letter of a code ("Kerley B lines"): never a name
      i = j;
      continue;
    }
    const bool has_lower = std::any_of(folded.begin(), folded.end(), LowerCase);
    const bool capitalized = Upper(folded[0]) && (has_lower || folded.size() >= 3);
    out.push_back({i, j, w, capitalized});
    i = j;
  }
  return out;
}

// `w` as the dictionaries hold it: diacritics folded (Fold), in lower case; one pass, and no
// folding for ASCII words (nearly all of them).
std::string Key(std::string_view w) {
  const bool ascii =
      std::all_of(w.begin(), w.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  return ascii ? AsciiLower(w) : AsciiLower(Fold(w));
}

bool InSet(const std::unordered_set<std::string>& set, std::string_view w) {
  return set.count(Key(w)) > 0;
}

// Each hyphen-separated part of `w` satisfies `pred` (a name such as "Mary-Jane" or "Smith-Jones").
template <typename Pred>
bool AllParts(std::string_view w, Pred pred) {
  size_t start = 0;
  while (true) {
    const size_t dash = w.find('-', start);
    if (!pred(w.substr(start, dash == std::string_view::npos ? w.npos : dash - start)))
      return false;
    if (dash == std::string_view::npos) return true;
    start = dash + 1;
  }
}

// Surname by the project's dictionary, including Slavic feminine forms of a listed surname
// ("Sokolova" of "Sokolov", "Kowalska" of "Kowalski").
bool OwnSurname(std::string_view w) {
  const Dictionaries& d = Dicts();
  return AllParts(w, [&](std::string_view p) {
    if (InSet(d.surnames, p)) return true;
    const std::string l = Key(p);
    if (l.size() > 4 && (l.ends_with("ova") || l.ends_with("eva") || l.ends_with("ina")))
      return d.surnames.count(l.substr(0, l.size() - 1)) > 0;
    if (l.size() > 4 && l.ends_with("ska"))
      return d.surnames.count(l.substr(0, l.size() - 1) + "i") > 0;
    return false;
  });
}
bool OwnGiven(std::string_view w) {
  return AllParts(w, [](std::string_view p) { return InSet(Dicts().given, p); });
}
// By the project's dictionaries or the packaged lists (name_lists.h).
bool Surname(std::string_view w) {
  return OwnSurname(w) ||
         AllParts(w, [](std::string_view p) { return InSet(PackagedNames().surnames, p); });
}
bool Given(std::string_view w) {
  return AllParts(w, [](std::string_view p) {
    return InSet(Dicts().given, p) || InSet(PackagedNames().given, p);
  });
}
// A name only the packaged lists know: never a name alone (name_lists.h).
bool PackagedOnly(std::string_view w) {
  return !OwnGiven(w) && !OwnSurname(w) && (Given(w) || Surname(w));
}
bool AlsoWord(std::string_view w) { return InSet(Dicts().also_words, w) || PackagedOnly(w); }
bool NotName(std::string_view w) { return InSet(Dicts().not_names, w); }
// A word of the English word list (lower-case entries only: "brain", "chance", not "Mary").
bool EnglishWord(std::string_view w) { return InSet(PackagedNames().english, w); }

// `text` with each byte span [begin, end) (sorted, not overlapping) replaced by "[NAME]".
std::string ReplaceSpans(std::string_view text, const std::vector<std::pair<size_t, size_t>>& spans,
                         ScrubStats* stats) {
  std::string out;
  size_t at = 0;
  for (const auto& [b, e] : spans) {
    out.append(text.substr(at, b - at));
    out += "[NAME]";
    if (stats != nullptr) ++stats->by_category["name"];
    at = e;
  }
  out.append(text.substr(at));
  return out;
}

// `text` with each name after a cue word replaced by "[NAME]": a word that follows a word of
// `cues` (compared in lower case) after one space and satisfies `first`, with the next word when
// it follows after one space and satisfies `second`.
template <typename First, typename Second>
std::string ReplaceNamesAfterCues(std::string_view text,
                                  const std::unordered_set<std::string>& cues, First first,
                                  Second second, ScrubStats* stats) {
  const std::vector<Word> words = Words(text);
  auto spaced = [&](size_t k) {
    return text.substr(words[k - 1].end, words[k].begin - words[k - 1].end) == " ";
  };
  std::vector<std::pair<size_t, size_t>> spans;
  for (size_t i = 1; i < words.size(); ++i) {
    if (!cues.count(AsciiLower(words[i - 1].text)) || !spaced(i) || !first(words[i].text)) continue;
    size_t last = i;
    if (i + 1 < words.size() && spaced(i + 1) && second(words[i + 1].text)) last = i + 1;
    spans.push_back({words[i].begin, words[last].end});
    i = last;
  }
  return ReplaceSpans(text, spans, stats);
}

}  // namespace

bool IsGivenName(std::string_view word) { return Given(word); }
bool IsSurname(std::string_view word) { return Surname(word); }
bool IsEnglishWord(std::string_view word) { return EnglishWord(word); }

std::string ScrubDictionaryNames(std::string_view text, ScrubStats* stats) {
  const std::vector<Word> words = Words(text);
  const Dictionaries& d = Dicts();
  const size_t n = words.size();
  // What stands between words a and b.
  auto gap = [&](size_t a, size_t b) {
    return text.substr(words[a].end, words[b].begin - words[a].end);
  };
  // The word after i makes it a clinical term: a clinical noun, a possessive, a number.
  auto clinical_after = [&](size_t i) {
    const Word& w = words[i];
    if (!AllParts(w.text, [&](std::string_view p) { return InSet(d.eponyms, p); })) return false;
    const std::string_view rest = text.substr(w.end);
    if (rest.starts_with("'s") || rest.starts_with("\xE2\x80\x99s")) return true;
    if (rest.size() > 1 && rest[0] == ' ' && std::isdigit(static_cast<unsigned char>(rest[1])))
      return true;
    for (size_t k = i + 1; k < n && k <= i + 3; ++k) {
      if (InSet(d.eponym_nouns, words[k].text)) return true;
      if (!words[k].capitalized && !InSet(d.eponyms, words[k].text)) break;
    }
    // Or the eponym follows its structure: "circle of Willis", "pouch of Douglas".
    return i >= 2 && gap(i - 1, i) == " " && words[i - 1].text == "of" &&
           gap(i - 2, i - 1) == " " && InSet(d.eponym_nouns, words[i - 2].text);
  };
  // Clinical scores and tests written in capitals that are also given names ("BESS 14": the
  // Balance Error Scoring System; "CAM negative": the Confusion Assessment Method), as written
  // in capitals only ("Bess" and "Cam" stay names).
  static const std::unordered_set<std::string_view> kCapitalTests = {"BESS", "CAM"};
  auto name_word = [&](size_t i) {  // capitalized, could be part of a name
    return words[i].capitalized && !NotName(words[i].text) && !clinical_after(i) &&
           !kCapitalTests.count(words[i].text);
  };
  // The index of the name word that may follow word k: the next word, or the one after a middle
  // initial ("Agnes M. Hale"); n when there is none.
  auto following = [&](size_t k) -> size_t {
    if (k + 1 >= n) return n;
    if (gap(k, k + 1) == " ") return k + 1;
    const std::string_view rest = text.substr(words[k].end);
    const bool initial =
        rest.size() >= 4 && rest[0] == ' ' && Upper(rest[1]) && rest[2] == '.' && rest[3] == ' ';
    return initial && words[k + 1].begin == words[k].end + 4 ? k + 1 : n;
  };
  std::vector<std::pair<size_t, size_t>> spans;  // byte [begin, end)
  for (size_t i = 0; i < n; ++i) {
    if (!name_word(i)) continue;
    const std::string_view w = words[i].text;
    const bool given = Given(w), surname = Surname(w), also = AlsoWord(w);
    size_t last = i;
    // Given name (or any capitalized word before a surname) + surname-shaped word(s).
    auto next_name = [&](size_t k) {
      const size_t f = following(k);
      return f < n && name_word(f) ? f : n;
    };
    if (const size_t v_at = next_name(i); v_at < n) {
      const std::string_view v = words[v_at].text;
      // A given name only the packaged lists know pairs with a known surname only, so that
      // headings such as "VENA CAVA" stay.
      const bool packaged_given = given && !OwnGiven(w);
      const bool pair = (given && !packaged_given && !(also && AlsoWord(v) && !Surname(v))) ||
                        (packaged_given && Surname(v) && !InSet(d.also_words, v)) ||
                        (Surname(v) && !AlsoWord(v));
      if (pair) {
        last = v_at;
        if (const size_t third = next_name(last); third < n && Surname(words[third].text))
          last = third;
      }
    }
    // "Surname, Given".
    if (last == i && surname && i + 1 < n && (gap(i, i + 1) == ", " || gap(i, i + 1) == ",") &&
        name_word(i + 1) && Given(words[i + 1].text) && !InSet(d.also_words, words[i + 1].text))
      last = i + 1;
    // A dictionary name alone, unless it is also a common word.
    if (last == i && !((given || surname) && !also)) continue;
    spans.push_back({words[i].begin, words[last].end});
    i = last;
  }
  return ReplaceSpans(text, spans, stats);
}

std::string ScrubLowercaseCompanionNames(std::string_view text, ScrubStats* stats) {
  static const std::unordered_set<std::string> kCompanions = {
      "daughter", "son",          "wife",        "husband",     "mother",     "father",
      "mom",      "dad",          "sister",      "brother",     "grandson",   "granddaughter",
      "grandma",  "grandpa",      "grandmother", "grandfather", "niece",      "nephew",
      "aunt",     "uncle",        "cousin",      "friend",      "neighbor",   "neighbour",
      "partner",  "fiance",       "fiancee",     "boyfriend",   "girlfriend", "caregiver",
      "roommate", "stepdaughter", "stepson",     "stepmother",  "stepfather", "spouse",
      "stepdad",  "stepmom",      "sibling",     "mommy",       "daddy"};
  auto lower = [](std::string_view w) {
    const std::string f = Fold(w);
    return std::all_of(f.begin(), f.end(), LowerCase);
  };
  // A name of the packaged lists counts here when the English word list knows it is no word.
  // In lower case after a relative, a name that is also a place or a capitalized word
  // ("dakota", "georgia") is a name unless it is an English word ("will", "rose"): with the
  // English word list that decides; without it, the project's common words are left, and so are
  // the names only the packaged lists know.
  auto name = [&](std::string_view w, bool given) {
    if (!lower(w) || w.size() <= 2 || !(given ? Given(w) : Surname(w)) || NotName(w)) return false;
    if (!PackagedNames().english.empty()) return !EnglishWord(w);
    return !AlsoWord(w);
  };
  return ReplaceNamesAfterCues(
      text, kCompanions, [&](std::string_view w) { return name(w, /*given=*/true); },
      [&](std::string_view w) { return name(w, /*given=*/false); }, stats);
}

std::string ScrubSpokenNames(std::string_view text, ScrubStats* stats) {
  static const std::unordered_set<std::string> kCues = {
      "patient",  "doctor",       "dr",      "mister",     "mr",         "missus",   "mrs",
      "miss",     "ms",           "nurse",   "daughter",   "son",        "wife",     "husband",
      "mother",   "father",       "sister",  "brother",    "with",       "to",       "called",
      "per",      "named",        "by",      "for",        "friend",     "neighbor", "contact",
      "partner",  "stepdaughter", "stepson", "stepmother", "stepfather", "chaplain", "pastor",
      "reverend", "rev"};
  auto spoken_name = [](std::string_view w) { return (Given(w) || Surname(w)) && !AlsoWord(w); };
  return ReplaceNamesAfterCues(text, kCues, spoken_name, spoken_name, stats);
}

}  // namespace medscribe::deid
